using System.ComponentModel;
using System.Globalization;
using DeliveryGrains.Client.Targets;
using DeliveryGrains.Deliveries;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

/// <summary>The options of a delivery definition shared by <c>submit</c> and <c>load</c>; unset ones take the command's defaults.</summary>
public class DeliveryOptionSettings : ClientSettings
{
    [CommandOption("--channel <CHANNEL>")]
    [Description("Email (default) or Sms.")]
    public Channel Channel { get; set; } = Channel.Email;

    [CommandOption("--efs")]
    [Description("Use the Email Feedback Service: a message counts as delivered only when the MTA reports it (Pending until then).")]
    public bool Efs { get; set; }

    [CommandOption("--validity <DURATION>")]
    [Description("Validity period, e.g. 3.12:00:00.")]
    public TimeSpan? Validity { get; set; }

    [CommandOption("--retry-period <DURATION>")]
    [Description("Wait before retrying a soft bounce, e.g. 01:00:00.")]
    public TimeSpan? RetryPeriod { get; set; }

    [CommandOption("--max-retries <COUNT>")]
    [Description("Retries after a soft bounce (default 5).")]
    public int? MaxRetries { get; set; }

    [CommandOption("--send-at <INSTANT>")]
    [Description("Contact date, e.g. 2027-03-01T09:00:00Z or '2027-03-01 10:00' (local time): once confirmed, the delivery waits (Scheduled) and starts relaying then.")]
    public DateTimeOffset? SendAt { get; set; }

    [CommandOption("--hard-bounce-rate <RATE>")]
    [Description("Simulated MTA: share of first attempts that hard bounce (0-1, default 0.02).")]
    public double? HardBounceRate { get; set; }

    [CommandOption("--soft-bounce-rate <RATE>")]
    [Description("Simulated MTA: share of first attempts that soft bounce (0-1, default 0.05).")]
    public double? SoftBounceRate { get; set; }

    [CommandOption("--retry-success-rate <RATE>")]
    [Description("Simulated MTA: share of retries that succeed (0-1, default 0.5).")]
    public double? RetrySuccessRate { get; set; }

    [CommandOption("--open-rate <RATE>")]
    [Description("Simulated MTA: share of delivered recipients who open (0-1, default 0.3).")]
    public double? OpenRate { get; set; }

    [CommandOption("--click-rate <RATE>")]
    [Description("Simulated MTA: share of delivered recipients who click (0-1, default 0.1).")]
    public double? ClickRate { get; set; }

    [CommandOption("--feedback-delay <DURATION>")]
    [Description("Simulated MTA: delay before it answers, e.g. 00:00:01.")]
    public TimeSpan? FeedbackDelay { get; set; }

    [CommandOption("--mta-seed <SEED>")]
    [Description("Simulated MTA: seed of the outcomes (same seed, same outcome per recipient).")]
    public int? MtaSeed { get; set; }

    [CommandOption("--scenario <FILE>")]
    [Description("Simulated MTA: a per-domain scenario (R12.5), a JSON file such as scenarios/consumer-mix.json: the generated addresses go on its domains by share, each domain with its cap per minute, bounce rates, latency and open/click curves.")]
    public string? Scenario { get; set; }

    private ScenarioFile.Result? _scenario;

    /// <summary>The scenario file, read once: its content, or the one line that says why it cannot be used.</summary>
    public ScenarioFile.Result ScenarioFromFile() => _scenario ??= Scenario is { } path ? ScenarioFile.Read(path) : new ScenarioFile.Result(null, null);

    public MtaSettings Mta(MtaKind kind, DefinitionDefaults defaults) => new(
        kind,
        HardBounceRate ?? 0.02,
        SoftBounceRate ?? 0.05,
        RetrySuccessRate ?? 0.5,
        OpenRate ?? 0.3,
        ClickRate ?? 0.1,
        FeedbackDelay ?? defaults.FeedbackDelay,
        MtaSeed ?? defaults.MtaSeed,
        Scenario: ScenarioFromFile().Scenario);

    /// <summary>Adds the scenario file's problem (unreadable, not JSON, not a scenario) to <paramref name="errors"/>.</summary>
    public void AddScenarioFileError(Dictionary<string, string[]> errors)
    {
        if (ScenarioFromFile().Error is { } error)
        {
            errors["--scenario"] = [error];
        }
    }

    public DeliveryDefinition Definition(
        string name, IReadOnlyList<Recipient>? recipients, GeneratedTarget? generated, MtaKind kind, DefinitionDefaults defaults) => new(
        name,
        Channel,
        Efs,
        Validity ?? defaults.Validity,
        RetryPeriod ?? defaults.RetryPeriod,
        MaxRetries ?? DeliveryDefinition.DefaultMaxRetries,
        SendAt,
        RequestConfirmation: true,
        recipients,
        generated,
        Mta(kind, defaults));
}

/// <summary>What a command uses for the options left unset.</summary>
public sealed record DefinitionDefaults(TimeSpan Validity, TimeSpan RetryPeriod, TimeSpan? FeedbackDelay, int MtaSeed)
{
    /// <summary>The defaults of RULES.md (R7.1, R7.2) and of the simulated MTA.</summary>
    public static readonly DefinitionDefaults Rules = new(DeliveryDefinition.MaxValidityPeriod, DeliveryDefinition.DefaultRetryPeriod, null, 0);
}

/// <summary>Names the command-line option behind each field that <see cref="DeliveryRules.Validate"/> refuses.</summary>
public static class OptionErrors
{
    private static readonly Dictionary<string, string> Options = new(StringComparer.Ordinal)
    {
        ["name"] = "--name",
        ["validityPeriod"] = "--validity",
        ["retryPeriod"] = "--retry-period",
        ["maxRetries"] = "--max-retries",
        ["recipients"] = "--target / --generate",
        ["generatedTarget.count"] = "--generate",
        ["generatedTarget.domain"] = "--domain",
        ["mta.hardBounceRate"] = "--hard-bounce-rate",
        ["mta.softBounceRate"] = "--soft-bounce-rate",
        ["mta.retrySuccessRate"] = "--retry-success-rate",
        ["mta.openRate"] = "--open-rate",
        ["mta.clickRate"] = "--click-rate",
        ["mta.feedbackDelay"] = "--feedback-delay",
        ["recurrence.every"] = "--every",
        ["recurrence.count"] = "--count",
        ["recurrence.aggregationPeriod"] = "--aggregation",
        ["sendAt"] = "--send-at",
        ["channel"] = "--channel",
        ["mta.kind"] = "--mta",
        ["content.subject"] = "--subject",
        ["content.html"] = "--html",
        ["content.text"] = "--text",
        ["content.fromName"] = "--from-name",
    };

    /// <summary>The definition's problems keyed by option (and target entry), empty when it is fine.</summary>
    public static Dictionary<string, string[]> Of(DeliveryDefinition definition, IReadOnlyDictionary<string, string>? renamed = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (field, messages) in DeliveryRules.Validate(definition))
        {
            var option = renamed is not null && renamed.TryGetValue(field, out var own) ? own
                : Options.TryGetValue(field, out var known) ? known
                : field.StartsWith("mta.scenario", StringComparison.Ordinal) ? ("--scenario " + field["mta.scenario".Length..].TrimStart('.')).TrimEnd()
                : TargetEntry(field) ?? field;
            errors[option] = errors.TryGetValue(option, out var before) ? [.. before, .. messages] : messages;
        }

        return errors;
    }

    /// <summary>One line listing every problem, e.g. for a settings validation result.</summary>
    public static string Describe(IReadOnlyDictionary<string, string[]> errors) =>
        "Invalid options: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));

    private static string? TargetEntry(string field)
    {
        // "recipients[3].profileId" is the 4th entry of the target file.
        if (!field.StartsWith("recipients[", StringComparison.Ordinal))
        {
            return null;
        }

        var close = field.IndexOf(']', StringComparison.Ordinal);
        return close > 11 && int.TryParse(field.AsSpan(11, close - 11), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? $"target entry {index + 1}{field[(close + 1)..]}"
            : null;
    }
}
