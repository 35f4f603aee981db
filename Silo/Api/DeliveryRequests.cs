using System.Text.Json.Serialization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.Api;

/// <summary>The body of <c>POST /api/deliveries</c>; absent fields take the defaults of RULES.md.</summary>
public sealed record CreateDeliveryRequest(
    string? Name,
    Channel? Channel,
    bool? EmailFeedbackService,
    TimeSpan? ValidityPeriod,
    TimeSpan? RetryPeriod,
    int? MaxRetries,
    [property: JsonConverter(typeof(ZonedInstantConverter))] DateTimeOffset? SendAt,
    bool? RequestConfirmation,
    List<RecipientDto>? Recipients,
    GeneratedTargetDto? GeneratedTarget,
    MtaDto? Mta,
    RecurrenceDto? Recurrence,
    ContentDto? Content = null);

/// <summary>What a delivery sends (R12.1, R14.1): Liquid templates; absent parts take the defaults; <c>tracking</c> R13.1.</summary>
public sealed record ContentDto(string? Subject, string? Text, string? Html, string? FromName = null, bool? Tracking = null)
{
    public MessageContent ToContent() => new(Subject, Text, Html, Tracking, FromName);
}

/// <summary>A recipient of an inline target; <c>fields</c> (e.g. <c>firstName</c>) personalize SMTP content.</summary>
public sealed record RecipientDto(string? ProfileId, string? Address, Dictionary<string, string>? Fields = null);

public sealed record GeneratedTargetDto(int Count, int? Seed, string? Domain);

public sealed record MtaDto(
    MtaKind? Kind,
    double? HardBounceRate,
    double? SoftBounceRate,
    double? RetrySuccessRate,
    double? OpenRate,
    double? ClickRate,
    TimeSpan? FeedbackDelay,
    int? Seed,
    SimulatorScenario? Scenario = null);

public sealed record RecurrenceDto(TimeSpan? Every, int? Count, AggregationPeriod? AggregationPeriod);

/// <summary>The body of <c>PATCH /api/deliveries/{id}</c>: name, target, schedule or content (R14.1).</summary>
public sealed record ChangeDeliveryRequest(
    string? Name,
    List<RecipientDto>? Recipients,
    GeneratedTargetDto? GeneratedTarget,
    [property: JsonConverter(typeof(ZonedInstantConverter))] DateTimeOffset? SendAt,
    ContentDto? Content = null);

/// <summary>The body of <c>POST …/preview</c> (R14.4): the recipient to render for; none takes the target's first.</summary>
public sealed record PreviewRequest(string? ProfileId);

/// <summary>The body of <c>POST …/proofs</c> (R14.4): where to send the proof, and optionally whose message it shows.</summary>
public sealed record ProofRequest(List<string>? Addresses, string? ProfileId = null);

/// <summary>The answer of <c>POST …/proofs</c>: how many addresses took the proof, its number, and why any did not.</summary>
public sealed record ProofResponse(int Sent, int Number, IReadOnlyDictionary<string, string> Refused);

public sealed record PreparationResponse(long ToDeliver, IReadOnlyDictionary<ExclusionReason, int> Excluded);

public static class DeliveryRequestMapping
{
    public static DeliveryDefinition ToDefinition(this CreateDeliveryRequest r, MtaKind defaultMta) => new(
        Name: r.Name ?? "",
        Channel: r.Channel ?? Channel.Email,
        EmailFeedbackService: r.EmailFeedbackService ?? false,
        ValidityPeriod: r.ValidityPeriod ?? DeliveryDefinition.MaxValidityPeriod,
        RetryPeriod: r.RetryPeriod ?? DeliveryDefinition.DefaultRetryPeriod,
        MaxRetries: r.MaxRetries ?? DeliveryDefinition.DefaultMaxRetries,
        SendAt: r.SendAt,
        RequestConfirmation: r.RequestConfirmation ?? true,
        Recipients: r.Recipients?.Select(ToRecipient).ToList(),
        GeneratedTarget: r.GeneratedTarget?.ToTarget(),
        Mta: r.Mta.ToSettings(defaultMta) with { Content = r.Content?.ToContent() },
        Recurrence: r.Recurrence is { } recurrence
            ? new Recurrence(recurrence.Every ?? TimeSpan.Zero, recurrence.Count ?? 0, recurrence.AggregationPeriod)
            : null);

    public static Recipient ToRecipient(RecipientDto? dto) => new(dto?.ProfileId ?? "", dto?.Address, dto?.Fields is { Count: > 0 } fields ? fields : null);

    public static GeneratedTarget ToTarget(this GeneratedTargetDto dto) => new(dto.Count, dto.Seed ?? 0, dto.Domain ?? "example.test");

    private static MtaSettings ToSettings(this MtaDto? dto, MtaKind defaultMta)
    {
        var defaults = new MtaSettings(dto?.Kind ?? defaultMta);
        return dto is null ? defaults : defaults with
        {
            HardBounceRate = dto.HardBounceRate ?? defaults.HardBounceRate,
            SoftBounceRate = dto.SoftBounceRate ?? defaults.SoftBounceRate,
            RetrySuccessRate = dto.RetrySuccessRate ?? defaults.RetrySuccessRate,
            OpenRate = dto.OpenRate ?? defaults.OpenRate,
            ClickRate = dto.ClickRate ?? defaults.ClickRate,
            FeedbackDelay = dto.FeedbackDelay,
            Seed = dto.Seed ?? 0,
            Scenario = dto.Scenario,
        };
    }
}
