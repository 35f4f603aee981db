using DeliveryGrains.Addresses;

namespace DeliveryGrains.Deliveries;

/// <summary>What makes a delivery definition acceptable, shared by the grain, the HTTP API and the Client.</summary>
public static class DeliveryRules
{
    public const int MaxRetriesLimit = 20;
    public const int MaxRuns = 1000;

    /// <summary>The most recipients an inline target may list (a larger target is a generated one, or several deliveries).</summary>
    public const int MaxInlineRecipients = 100_000;

    /// <summary>The longest profile id; ids are grain keys and appear in every log of the profile.</summary>
    public const int MaxProfileIdLength = 200;

    /// <summary>The longest address (RFC 5321 allows 254 characters in a path; the rest is slack for SMS forms).</summary>
    public const int MaxAddressLength = 320;

    /// <summary>The most personalization fields per recipient, and the longest name and value of one.</summary>
    public const int MaxFields = 50;
    public const int MaxFieldNameLength = 100;
    public const int MaxFieldValueLength = 1000;

    /// <summary>The longest time between runs of a recurring delivery.</summary>
    public static readonly TimeSpan MaxEvery = TimeSpan.FromDays(366);

    /// <summary>How far ahead a contact date may be: far enough for any campaign, near enough that every later run's date exists.</summary>
    public const int MaxYearsAhead = 10;

    /// <summary>Every problem of a definition, keyed by its camelCase field path; empty when it is fine.</summary>
    public static Dictionary<string, string[]> Validate(DeliveryDefinition d) => Validate(d, DateTimeOffset.UtcNow);

    /// <summary>Every problem of a definition as of <paramref name="now"/>, keyed by its camelCase field path; empty when it is fine.</summary>
    public static Dictionary<string, string[]> Validate(DeliveryDefinition d, DateTimeOffset now)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        if (string.IsNullOrWhiteSpace(d.Name))
        {
            Add("name", "Give the delivery a name.");
        }
        else if (d.Name.Length > 200)
        {
            Add("name", "Keep the name to 200 characters or fewer.");
        }
        else if (HasControlCharacter(d.Name))
        {
            Add("name", "The name holds a control character (such as NUL or a line break); write it on one line of printable text.");
        }

        if (d.ValidityPeriod <= TimeSpan.Zero)
        {
            Add("validityPeriod", "The validity period must be longer than zero, e.g. \"3.12:00:00\".");
        }

        if (!Enum.IsDefined(d.Channel))
        {
            Add("channel", $"{(int)d.Channel} is not a channel; use {string.Join(" or ", Enum.GetNames<Channel>())}.");
        }

        // A retry can never come after the validity period, whose longest value is 3.5 days (R7.2).
        if (d.RetryPeriod <= TimeSpan.Zero || d.RetryPeriod > DeliveryDefinition.MaxValidityPeriod)
        {
            Add("retryPeriod", $"Use a retry period longer than zero and at most {DeliveryDefinition.MaxValidityPeriod:c} (the longest validity period), e.g. \"01:00:00\".");
        }

        if (d.SendAt is { } sendAt && sendAt > now.AddYears(MaxYearsAhead))
        {
            Add("sendAt", $"Give a contact date at most {MaxYearsAhead} years ahead (before {now.AddYears(MaxYearsAhead).UtcDateTime:yyyy-MM-dd}).");
        }

        if (d.MaxRetries is < 0 or > MaxRetriesLimit)
        {
            Add("maxRetries", $"Use 0 to {MaxRetriesLimit} retries.");
        }

        if (d.Recurrence is { } recurrence)
        {
            if (recurrence.Every < TimeSpan.FromSeconds(1) || recurrence.Every > MaxEvery)
            {
                Add("recurrence.every", $"Runs must be from one second to {MaxEvery.TotalDays:0} days apart, e.g. \"1.00:00:00\".");
            }

            if (recurrence.AggregationPeriod is { } period && !Enum.IsDefined(period))
            {
                Add("recurrence.aggregationPeriod", $"{(int)period} is not an aggregation period; use {string.Join(", ", Enum.GetNames<AggregationPeriod>())}, or null for none.");
            }

            if (recurrence.Count is < 1 or > MaxRuns)
            {
                Add("recurrence.count", $"Use 1 to {MaxRuns} runs.");
            }
        }

        ValidateTarget(d.Recipients, d.GeneratedTarget, Add);
        ValidateMta(d.Mta, Add);
        ValidateSmtp(d, Add);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    public static void ValidateTarget(IReadOnlyList<Recipient>? recipients, GeneratedTarget? generated, Action<string, string> add)
    {
        if ((recipients is null) == (generated is null))
        {
            add("recipients", "Give exactly one of 'recipients' (an inline target) or 'generatedTarget'.");
        }

        if (recipients is not null)
        {
            if (recipients.Count > MaxInlineRecipients)
            {
                add("recipients", $"An inline target holds at most {MaxInlineRecipients:N0} recipients; this one has {recipients.Count:N0}. Use a generated target or split the delivery.");
                return;
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < recipients.Count; i++)
            {
                var profileId = recipients[i]?.ProfileId;
                ValidateRecipientSizes(recipients[i], i, add);
                if (string.IsNullOrWhiteSpace(profileId))
                {
                    add($"recipients[{i}].profileId", "Every recipient needs a profileId.");
                }
                else if (profileId.Contains('/'))
                {
                    add($"recipients[{i}].profileId", "A profileId cannot contain '/'.");
                }
                else if (HasControlCharacter(profileId))
                {
                    add($"recipients[{i}].profileId", "A profileId cannot hold control characters (such as NUL or a line break).");
                }
                else if (profileId.Length > MaxProfileIdLength)
                {
                    add($"recipients[{i}].profileId", $"Keep a profileId to {MaxProfileIdLength} characters or fewer.");
                }
                else if (!seen.Add(profileId))
                {
                    add($"recipients[{i}].profileId", $"Profile '{profileId}' is already in the target; list each profile once.");
                }
            }
        }

        if (generated is not null)
        {
            if (generated.Count is < 1 or > 10_000_000)
            {
                add("generatedTarget.count", "Generate 1 to 10,000,000 recipients.");
            }

            if (string.IsNullOrWhiteSpace(generated.Domain) || !AddressSyntax.IsValid("a@" + generated.Domain, Channel.Email))
            {
                add("generatedTarget.domain", "Give a domain such as \"example.test\".");
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="text"/> holds a C0 or C1 control character: ids and names are shown in logs,
    /// headers, CSV and the console, where a NUL or a line break would cut or forge what follows.
    /// </summary>
    public static bool HasControlCharacter(string text) => text.AsSpan().ContainsAnyInRange('\u0000', '\u001F') || text.AsSpan().ContainsAnyInRange('\u007F', '\u009F');

    private static void ValidateRecipientSizes(Recipient? recipient, int i, Action<string, string> add)
    {
        if (recipient?.Address is { Length: > MaxAddressLength })
        {
            add($"recipients[{i}].address", $"Keep an address to {MaxAddressLength} characters or fewer.");
        }

        if (recipient?.Fields is not { } fields)
        {
            return;
        }

        if (fields.Count > MaxFields)
        {
            add($"recipients[{i}].fields", $"Give at most {MaxFields} fields per recipient.");
        }
        else if (fields.Any(f => f.Key.Length > MaxFieldNameLength || f.Value?.Length > MaxFieldValueLength))
        {
            add($"recipients[{i}].fields", $"Keep field names to {MaxFieldNameLength} characters and values to {MaxFieldValueLength:N0}.");
        }
    }

    /// <summary>The longest subject, text or HTML a delivery's content may hold.</summary>
    public const int MaxContentLength = 1_000_000;

    /// <summary>R12: an SMTP delivery is email; its content parts are bounded and its subject is one line.</summary>
    private static void ValidateSmtp(DeliveryDefinition d, Action<string, string> add)
    {
        if (d.Mta.Scenario is not null && d.Channel != Channel.Email)
        {
            add("mta.scenario", "A scenario spreads email recipients over domains (R12.5): use it with channel Email.");
        }

        if (d.Mta.Kind == MtaKind.Smtp && d.Channel != Channel.Email)
        {
            add("mta.kind", "Smtp relays email; an SMS delivery uses the Simulated or External MTA.");
        }

        if (d.Mta.Content is not { } content)
        {
            return;
        }

        if (content.Subject is { } subject && (subject.Length > 998 || subject.Contains('\r') || subject.Contains('\n')))
        {
            add("content.subject", "Keep the subject to one line of at most 998 characters.");
        }

        if (content.Text?.Length > MaxContentLength)
        {
            add("content.text", $"Keep the text to {MaxContentLength:N0} characters or fewer.");
        }

        if (content.Html?.Length > MaxContentLength)
        {
            add("content.html", $"Keep the HTML to {MaxContentLength:N0} characters or fewer.");
        }

        ValidateContent(content, add);
    }

    /// <summary>The longest From display name.</summary>
    public const int MaxFromNameLength = 200;

    /// <summary>R14.1: the display name is one short line, and each part within the size bounds parses as a template.</summary>
    public static void ValidateContent(MessageContent content, Action<string, string> add)
    {
        if (content.FromName is { } fromName && (fromName.Length > MaxFromNameLength || fromName.Contains('\r') || fromName.Contains('\n')))
        {
            add("content.fromName", $"Keep the sender name to one line of at most {MaxFromNameLength} characters.");
        }

        // Parsing is linear, but a part refused for its size is not parsed at all.
        Content.TemplateSyntax.Validate(
            "content",
            content.Subject is { Length: <= 998 } ? content.Subject : null,
            content.Html is { Length: <= MaxContentLength } ? content.Html : null,
            content.Text is { Length: <= MaxContentLength } ? content.Text : null,
            add);
    }

    private static void ValidateMta(MtaSettings mta, Action<string, string> add)
    {
        if (!Enum.IsDefined(mta.Kind))
        {
            add("mta.kind", $"{(int)mta.Kind} is not an MTA kind; use {string.Join(", ", Enum.GetNames<MtaKind>())}.");
        }

        void Rate(string name, double value)
        {
            if (double.IsNaN(value) || value is < 0 or > 1)
            {
                add($"mta.{name}", "Rates are fractions from 0 to 1.");
            }
        }

        Rate("hardBounceRate", mta.HardBounceRate);
        Rate("softBounceRate", mta.SoftBounceRate);
        Rate("retrySuccessRate", mta.RetrySuccessRate);
        Rate("openRate", mta.OpenRate);
        Rate("clickRate", mta.ClickRate);
        if (mta.HardBounceRate + mta.SoftBounceRate > 1)
        {
            add("mta.softBounceRate", "hardBounceRate + softBounceRate cannot exceed 1.");
        }

        if (mta.FeedbackDelay is { } delay && (delay < TimeSpan.Zero || delay > TimeSpan.FromDays(1)))
        {
            add("mta.feedbackDelay", "Use a feedback delay from \"00:00:00\" to \"1.00:00:00\".");
        }

        if (mta.Scenario is { } scenario)
        {
            if (mta.Kind != MtaKind.Simulated)
            {
                add("mta.scenario", $"A scenario drives the simulated MTA (R12.5): use it with mta.kind Simulated, not {mta.Kind}.");
            }

            ScenarioRules.Validate(scenario, "mta.scenario", add);
        }
    }
}
