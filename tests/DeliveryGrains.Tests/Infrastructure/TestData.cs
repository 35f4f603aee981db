using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>Callers, unique keys and delivery definitions for tests.</summary>
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

    public static string Unique() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>An address no other test uses, so the shared quarantine never leaks between tests.</summary>
    public static string Email(string local = "user") => $"{local}.{Unique()}@example.test";

    /// <summary>
    /// An E.164 number no other test uses: '+8' and 14 random digits (15 in all), away from the
    /// reserved +999 range that generated SMS targets use.
    /// </summary>
    public static string Phone() =>
        "+8" + Random.Shared.NextInt64(10_000_000_000_000, 100_000_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><paramref name="count"/> recipients p0…p{count-1} with unique addresses.</summary>
    public static IReadOnlyList<Recipient> Recipients(int count) =>
        Enumerable.Range(0, count).Select(i => new Recipient($"p{i}", Email($"r{i}"))).ToList();

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
