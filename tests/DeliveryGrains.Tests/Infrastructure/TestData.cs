using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>Callers, delivery ids and delivery definitions for the grain tests (unique addresses and numbers: <see cref="Unique"/>).</summary>
public static class TestData
{
    /// <summary>Holds every role a marketing user can hold.</summary>
    public static readonly Caller Alice = new("alice", new HashSet<string> { Roles.PrepareDeliveries, Roles.StartDeliveries, Roles.Administration });

    /// <summary>May prepare but not start deliveries, nor read others' logs.</summary>
    public static readonly Caller Paul = new("paul", new HashSet<string> { Roles.PrepareDeliveries });

    /// <summary>May prepare and start, but is no administrator.</summary>
    public static readonly Caller Sam = new("sam", new HashSet<string> { Roles.PrepareDeliveries, Roles.StartDeliveries });

    /// <summary>An administrator who creates nothing.</summary>
    public static readonly Caller Ada = new("ada", new HashSet<string> { Roles.Administration });

    public static string NewDeliveryId() => $"d-{Guid.NewGuid():N}";

    /// <summary><paramref name="count"/> recipients p0…p{count-1} with unique addresses.</summary>
    public static IReadOnlyList<Recipient> Recipients(int count) =>
        Enumerable.Range(0, count).Select(i => new Recipient($"p{i}", Unique.Email($"r{i}"))).ToList();

    public static DeliveryDefinition Definition(
        IReadOnlyList<Recipient>? recipients = null,
        GeneratedTarget? generated = null,
        bool efs = false,
        TimeSpan? validity = null,
        TimeSpan? retryPeriod = null,
        int maxRetries = DeliveryDefinition.DefaultMaxRetries,
        MtaSettings? mta = null,
        Channel channel = Channel.Email,
        string? name = null) => new(
            Name: name ?? "Test delivery",
            Channel: channel,
            EmailFeedbackService: efs,
            ValidityPeriod: validity ?? DeliveryDefinition.MaxValidityPeriod,
            RetryPeriod: retryPeriod ?? DeliveryDefinition.DefaultRetryPeriod,
            MaxRetries: maxRetries,
            SendAt: null,
            RequestConfirmation: false,
            Recipients: generated is null ? recipients ?? Recipients(3) : null,
            GeneratedTarget: generated,
            Mta: mta ?? new MtaSettings(MtaKind.External));
}
