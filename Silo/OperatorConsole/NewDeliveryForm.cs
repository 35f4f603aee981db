using System.Globalization;
using DeliveryGrains.Client.Targets;
using DeliveryGrains.Deliveries;
using Microsoft.Extensions.Primitives;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// The New delivery form as sent: every field kept as typed (to show it again beside its message),
/// read into a <see cref="DeliveryDefinition"/> with one message per field that cannot be read.
/// Field names are the API's JSON paths (<c>mta.hardBounceRate</c>, <c>recurrence.every</c>…), so
/// the API's rules (<see cref="DeliveryRules"/>) name the same fields.
/// </summary>
public sealed class NewDeliveryForm
{
    public const string Upload = "upload";
    public const string Generated = "generated";

    public string Name { get; init; } = "";
    public string Channel { get; init; } = nameof(Deliveries.Channel.Email);
    public string TargetKind { get; init; } = Upload;
    public string GeneratedCount { get; init; } = "1000";
    public string GeneratedDomain { get; init; } = "example.test";
    public string GeneratedSeed { get; init; } = "";
    public string ValidityPeriod { get; init; } = DeliveryDefinition.MaxValidityPeriod.ToString("c", CultureInfo.InvariantCulture);
    public string RetryPeriod { get; init; } = DeliveryDefinition.DefaultRetryPeriod.ToString("c", CultureInfo.InvariantCulture);
    public string MaxRetries { get; init; } = DeliveryDefinition.DefaultMaxRetries.ToString(CultureInfo.InvariantCulture);
    public string SendAt { get; init; } = "";

    /// <summary>The browser's offset from UTC in minutes at <see cref="SendAt"/>, set by the console's script; empty reads the field as UTC.</summary>
    public string SendAtOffset { get; init; } = "";
    public bool RequestConfirmation { get; init; } = true;
    public bool Recurring { get; init; }
    public string Every { get; init; } = "1.00:00:00";
    public string Count { get; init; } = "7";
    public string AggregationPeriod { get; init; } = "";
    public bool EmailFeedbackService { get; init; }
    public string MtaKind { get; init; } = "";
    public string HardBounceRate { get; init; } = Rate(new MtaSettings(Deliveries.MtaKind.Simulated).HardBounceRate);
    public string SoftBounceRate { get; init; } = Rate(new MtaSettings(Deliveries.MtaKind.Simulated).SoftBounceRate);
    public string RetrySuccessRate { get; init; } = Rate(new MtaSettings(Deliveries.MtaKind.Simulated).RetrySuccessRate);
    public string OpenRate { get; init; } = Rate(new MtaSettings(Deliveries.MtaKind.Simulated).OpenRate);
    public string ClickRate { get; init; } = Rate(new MtaSettings(Deliveries.MtaKind.Simulated).ClickRate);
    public string FeedbackDelay { get; init; } = MtaSettings.DefaultFeedbackDelay.ToString("c", CultureInfo.InvariantCulture);

    public static NewDeliveryForm Defaults(MtaKind mta) => new() { MtaKind = mta.ToString() };

    public static NewDeliveryForm From(IFormCollection form)
    {
        string Text(string key) => form.TryGetValue(key, out var value) ? value.ToString().Trim() : "";
        bool Checked(string key) => form.TryGetValue(key, out var value) && value.Any(v => v is "true" or "on");
        return new NewDeliveryForm
        {
            Name = Text("name"),
            Channel = Text("channel"),
            TargetKind = Text("target"),
            GeneratedCount = Text("generatedTarget.count"),
            GeneratedDomain = Text("generatedTarget.domain"),
            GeneratedSeed = Text("generatedTarget.seed"),
            ValidityPeriod = Text("validityPeriod"),
            RetryPeriod = Text("retryPeriod"),
            MaxRetries = Text("maxRetries"),
            SendAt = Text("sendAt"),
            SendAtOffset = Text("sendAtOffset"),
            RequestConfirmation = Checked("requestConfirmation"),
            Recurring = Checked("recurring"),
            Every = Text("recurrence.every"),
            Count = Text("recurrence.count"),
            AggregationPeriod = Text("recurrence.aggregationPeriod"),
            EmailFeedbackService = Checked("emailFeedbackService"),
            MtaKind = Text("mta.kind"),
            HardBounceRate = Text("mta.hardBounceRate"),
            SoftBounceRate = Text("mta.softBounceRate"),
            RetrySuccessRate = Text("mta.retrySuccessRate"),
            OpenRate = Text("mta.openRate"),
            ClickRate = Text("mta.clickRate"),
            FeedbackDelay = Text("mta.feedbackDelay"),
        };
    }

    /// <summary>The definition these fields describe, with <paramref name="recipients"/> as an uploaded target; every field that cannot be read is in <paramref name="errors"/>.</summary>
    public DeliveryDefinition ToDefinition(IReadOnlyList<Recipient>? recipients, FieldMessages errors)
    {
        var channel = Enum<Deliveries.Channel>("channel", Channel, "a channel", errors) ?? Deliveries.Channel.Email;
        GeneratedTarget? generated = null;
        if (TargetKind == Generated)
        {
            var count = Integer("generatedTarget.count", GeneratedCount, errors);
            var seed = GeneratedSeed.Length == 0 ? 0 : Integer("generatedTarget.seed", GeneratedSeed, errors);
            generated = new GeneratedTarget(count ?? 0, seed ?? 0, GeneratedDomain.Length == 0 ? "example.test" : GeneratedDomain);
        }
        else if (TargetKind != Upload)
        {
            errors.Add("target", "Choose the target: upload a CSV file, or generate recipients.");
        }

        Recurrence? recurrence = null;
        if (Recurring)
        {
            var every = Duration("recurrence.every", Every, errors);
            var count = Integer("recurrence.count", Count, errors);
            var period = AggregationPeriod.Length == 0 ? null : Enum<Deliveries.AggregationPeriod>("recurrence.aggregationPeriod", AggregationPeriod, "an aggregation period", errors);
            recurrence = new Recurrence(every ?? TimeSpan.Zero, count ?? 0, period);
        }

        var kind = Enum<Deliveries.MtaKind>("mta.kind", MtaKind, "an MTA kind", errors) ?? Deliveries.MtaKind.Simulated;
        var mta = new MtaSettings(kind);
        mta = mta with
        {
            HardBounceRate = Fraction("mta.hardBounceRate", HardBounceRate, errors) ?? mta.HardBounceRate,
            SoftBounceRate = Fraction("mta.softBounceRate", SoftBounceRate, errors) ?? mta.SoftBounceRate,
            RetrySuccessRate = Fraction("mta.retrySuccessRate", RetrySuccessRate, errors) ?? mta.RetrySuccessRate,
            OpenRate = Fraction("mta.openRate", OpenRate, errors) ?? mta.OpenRate,
            ClickRate = Fraction("mta.clickRate", ClickRate, errors) ?? mta.ClickRate,
            FeedbackDelay = FeedbackDelay.Length == 0 ? null : Duration("mta.feedbackDelay", FeedbackDelay, errors),
        };

        return new DeliveryDefinition(
            Name: Name,
            Channel: channel,
            EmailFeedbackService: EmailFeedbackService,
            ValidityPeriod: Duration("validityPeriod", ValidityPeriod, errors) ?? DeliveryDefinition.MaxValidityPeriod,
            RetryPeriod: Duration("retryPeriod", RetryPeriod, errors) ?? DeliveryDefinition.DefaultRetryPeriod,
            MaxRetries: Integer("maxRetries", MaxRetries, errors) ?? DeliveryDefinition.DefaultMaxRetries,
            SendAt: SendAt.Length == 0 ? null : Instant("sendAt", SendAt, SendAtOffset, errors),
            RequestConfirmation: RequestConfirmation,
            Recipients: TargetKind == Upload ? recipients ?? [] : null,
            GeneratedTarget: generated,
            Mta: mta,
            Recurrence: recurrence);
    }

    private static string Rate(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static int? Integer(string field, string text, FieldMessages errors)
    {
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add(field, text.Length == 0 ? "Give a whole number." : $"'{text}' is not a whole number.");
        return null;
    }

    private static double? Fraction(string field, string text, FieldMessages errors)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            return value;
        }

        errors.Add(field, $"'{text}' is not a number; rates are fractions from 0 to 1, e.g. 0.05.");
        return null;
    }

    private static TimeSpan? Duration(string field, string text, FieldMessages errors)
    {
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add(field, $"'{text}' is not a duration; write days.hours:minutes:seconds, e.g. 3.12:00:00 or 01:00:00.");
        return null;
    }

    /// <summary>The most a zone is ahead of or behind UTC, in minutes (UTC+14:00, UTC-12:00 and a margin).</summary>
    public const int MaxOffsetMinutes = 14 * 60;

    /// <summary>
    /// A contact date as the browser's date and time field sends it: in the operator's zone when the
    /// script gave that zone's offset, else in UTC; kept as the UTC instant.
    /// </summary>
    private static DateTimeOffset? Instant(string field, string text, string offsetText, FieldMessages errors)
    {
        var offset = TimeSpan.Zero;
        if (offsetText.Length > 0)
        {
            if (!int.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var minutes) || Math.Abs(minutes) > MaxOffsetMinutes)
            {
                errors.Add(field, $"'{offsetText}' is not a time zone offset; reload the page and pick the date again.");
                return null;
            }

            offset = TimeSpan.FromMinutes(minutes);
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var value))
        {
            // A value that names its own zone (…Z, …+02:00) says when it is; the field's never does.
            return value.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(value, offset).ToUniversalTime() : new DateTimeOffset(value, TimeSpan.Zero);
        }

        errors.Add(field, $"'{text}' is not a date and time; write it as 2026-12-01T09:00.");
        return null;
    }

    private static T? Enum<T>(string field, string text, string what, FieldMessages errors) where T : struct, System.Enum
    {
        if (!text.Any(char.IsAsciiDigit) && System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value))
        {
            return value;
        }

        errors.Add(field, $"'{text}' is not {what}; choose {string.Join(", ", System.Enum.GetNames<T>())}.");
        return null;
    }
}

/// <summary>Messages by form field, in the order they were found.</summary>
public sealed class FieldMessages
{
    private readonly Dictionary<string, List<string>> _messages = new(StringComparer.Ordinal);

    public int Count => _messages.Count;

    public void Add(string field, string message) =>
        (_messages.TryGetValue(field, out var list) ? list : _messages[field] = []).Add(message);

    /// <summary>Adds the rules' messages for fields that have none yet (a field that could not be read keeps only that message).</summary>
    public void AddRules(IReadOnlyDictionary<string, string[]> rules)
    {
        foreach (var (field, messages) in rules)
        {
            if (!_messages.ContainsKey(field))
            {
                _messages[field] = [.. messages];
            }
        }
    }

    public IReadOnlyList<string> For(string field) => _messages.TryGetValue(field, out var list) ? list : [];

    /// <summary>Every message of fields the form has no place for (e.g. <c>recipients[3].address</c> once told by line).</summary>
    public IEnumerable<(string Field, IReadOnlyList<string> Messages)> Except(IReadOnlySet<string> shown) =>
        _messages.Where(m => !shown.Contains(m.Key)).Select(m => (m.Key, (IReadOnlyList<string>)m.Value));

    public bool Has(string field) => _messages.ContainsKey(field);
}

/// <summary>An uploaded CSV target read by the Client's own reader, so the console takes exactly the files the Client does.</summary>
public static class UploadedTarget
{
    /// <summary>The recipients of the file, or null with every bad row told by line in <paramref name="errors"/> (field <c>target</c>).</summary>
    public static async Task<Target?> ReadAsync(IFormFile? file, Channel channel, FieldMessages errors, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            errors.Add("target", "Choose a CSV file with the header 'profileId,address' and one recipient per line.");
            return null;
        }

        var lines = new List<string>();
        using (var reader = new StreamReader(file.OpenReadStream(), detectEncodingFromByteOrderMarks: true))
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                lines.Add(line);
            }
        }

        var name = Path.GetFileName(file.FileName) is { Length: > 0 } given ? given : "target.csv";
        try
        {
            return TargetFile.Check(name, TargetFile.ParseCsv(name, lines), channel, defaultCountryCode: null);
        }
        catch (TargetFileException ex)
        {
            foreach (var problem in ex.Problems)
            {
                errors.Add("target", problem);
            }

            return null;
        }
    }

    /// <summary>The rules' problems with single recipients (<c>recipients[3].address</c>) told by the line of the file they come from.</summary>
    public static void TellByLine(Target target, IReadOnlyDictionary<string, string[]> rules, FieldMessages errors)
    {
        try
        {
            TargetFile.RefuseEntries(target, rules);
        }
        catch (TargetFileException ex)
        {
            foreach (var problem in ex.Problems)
            {
                errors.Add("target", problem);
            }
        }
    }

    /// <summary>Field names the form shows beside the target (the line-numbered ones, and the target as a whole).</summary>
    public static bool IsTargetField(string field) => field == "recipients" || field.StartsWith("recipients[", StringComparison.Ordinal);
}
