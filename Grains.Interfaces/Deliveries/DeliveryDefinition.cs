namespace DeliveryGrains.Deliveries;

[GenerateSerializer, Immutable, Alias("Recipient")]
public sealed record Recipient(
    [property: Id(0)] string ProfileId,
    [property: Id(1)] string? Address,
    [property: Id(2)] IReadOnlyDictionary<string, string>? Fields = null);

/// <summary>A synthetic target made on the server, for simulations and load tests.</summary>
[GenerateSerializer, Immutable, Alias("GeneratedTarget")]
public sealed record GeneratedTarget(
    [property: Id(0)] int Count,
    [property: Id(1)] int Seed,
    [property: Id(2)] string Domain);

/// <summary>Settings of the simulated Enhanced MTA; rates are fractions 0–1.</summary>
[GenerateSerializer, Immutable, Alias("MtaSettings")]
public sealed record MtaSettings(
    [property: Id(0)] MtaKind Kind,
    [property: Id(1)] double HardBounceRate = 0.02,
    [property: Id(2)] double SoftBounceRate = 0.05,
    [property: Id(3)] double RetrySuccessRate = 0.5,
    [property: Id(4)] double OpenRate = 0.3,
    [property: Id(5)] double ClickRate = 0.1,
    [property: Id(6)] TimeSpan? FeedbackDelay = null,
    [property: Id(7)] int Seed = 0,
    [property: Id(8)] MessageContent? Content = null,
    [property: Id(9)] SimulatorScenario? Scenario = null)
{
    public static readonly TimeSpan DefaultFeedbackDelay = TimeSpan.FromSeconds(1);

    [System.Text.Json.Serialization.JsonIgnore]
    public TimeSpan EffectiveFeedbackDelay => FeedbackDelay ?? DefaultFeedbackDelay;
}

/// <summary>
/// What a message says (R12.1, R14.1): subject, plain text and HTML are Liquid templates rendered per
/// recipient (<c>{{ firstName | default: "there" }}</c>; the older <c>{{firstName|there}}</c> form keeps
/// working). A null part takes the default of <see cref="MessageContent.Default"/>; without
/// <see cref="Text"/> an email's text part is made from its HTML (R14.2). <see cref="FromName"/> is the
/// display name of the From header (the relay's configured address stays the sender).
/// </summary>
[GenerateSerializer, Immutable, Alias("MessageContent")]
public sealed record MessageContent(
    [property: Id(0)] string? Subject,
    [property: Id(1)] string? Text,
    [property: Id(2)] string? Html,
    [property: Id(3)] bool? Tracking = null,
    [property: Id(4)] string? FromName = null)
{
    /// <summary>R13.1: links are rewritten and a pixel added unless <see cref="Tracking"/> says no; only an HTML part can be tracked.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Tracked => Html is not null && (Tracking ?? true);

    public static readonly MessageContent Default = new(
        "A message for you",
        "Hello {{firstName|there}},\n\nThis message was sent to {{address}} by DeliveryGrains.\n",
        null);
}

[Alias("AggregationPeriod")]
public enum AggregationPeriod
{
    Day,

    /// <summary>ISO week, Monday to Sunday, in UTC.</summary>
    Week,
    Month,
}

/// <summary>R3.3: a recurring delivery runs <see cref="Count"/> times, one every <see cref="Every"/>.</summary>
[GenerateSerializer, Immutable, Alias("Recurrence")]
public sealed record Recurrence(
    [property: Id(0)] TimeSpan Every,
    [property: Id(1)] int Count,
    [property: Id(2)] AggregationPeriod? AggregationPeriod);

/// <summary>Everything a marketing user sets on a delivery before it is prepared.</summary>
[GenerateSerializer, Immutable, Alias("DeliveryDefinition")]
public sealed record DeliveryDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] Channel Channel,
    [property: Id(2)] bool EmailFeedbackService,
    [property: Id(3)] TimeSpan ValidityPeriod,
    [property: Id(4)] TimeSpan RetryPeriod,
    [property: Id(5)] int MaxRetries,
    [property: Id(6)] DateTimeOffset? SendAt,
    [property: Id(7)] bool RequestConfirmation,
    [property: Id(8)] IReadOnlyList<Recipient>? Recipients,
    [property: Id(9)] GeneratedTarget? GeneratedTarget,
    [property: Id(10)] MtaSettings Mta,
    [property: Id(11)] Recurrence? Recurrence = null)
{
    /// <summary>R7.2: the longest validity period, also the default.</summary>
    public static readonly TimeSpan MaxValidityPeriod = TimeSpan.FromDays(3.5);
    public static readonly TimeSpan DefaultRetryPeriod = TimeSpan.FromHours(1);
    public const int DefaultMaxRetries = 5;

    public int TargetSize => Recipients?.Count ?? GeneratedTarget?.Count ?? 0;
}

/// <summary>What PATCH may change on a delivery not yet confirmed (R2.4); null leaves a field as it is.</summary>
[GenerateSerializer, Immutable, Alias("DeliveryChanges")]
public sealed record DeliveryChanges(
    [property: Id(0)] string? Name,
    [property: Id(1)] IReadOnlyList<Recipient>? Recipients,
    [property: Id(2)] GeneratedTarget? GeneratedTarget,
    [property: Id(3)] DateTimeOffset? SendAt,
    [property: Id(4)] bool ClearSendAt = false,
    [property: Id(5)] MessageContent? Content = null);

/// <summary>Who asks: the authenticated user and the roles they hold (R1).</summary>
[GenerateSerializer, Immutable, Alias("Caller")]
public sealed record Caller(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlySet<string> Roles)
{
    public bool Holds(string role) => Roles.Contains(role);
}

public static class Roles
{
    public const string PrepareDeliveries = nameof(PrepareDeliveries);
    public const string StartDeliveries = nameof(StartDeliveries);
    public const string Administration = nameof(Administration);
    public const string MtaFeedback = nameof(MtaFeedback);

    /// <summary>Reads <c>/metrics</c> and <c>/dashboard</c> (so does Administration), nothing else.</summary>
    public const string Monitoring = nameof(Monitoring);

    public static readonly IReadOnlyList<string> All = [PrepareDeliveries, StartDeliveries, Administration, MtaFeedback, Monitoring];
}

/// <summary>How an Orleans client proves who it is: the user's API key, carried in the request context of every call.</summary>
public static class CallerKey
{
    /// <summary>The request-context entry that holds the key; the silo checks it and removes it.</summary>
    public const string RequestContextKey = "deliverygrains-api-key";
}
