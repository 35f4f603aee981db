using DeliveryGrains.Addresses;

namespace DeliveryGrains.Deliveries;

/// <summary>What makes a delivery definition acceptable, shared by the grain, the HTTP API and the Client.</summary>
public static class DeliveryRules
{
    public const int MaxRetriesLimit = 20;
    public const int MaxRuns = 1000;

    /// <summary>Every problem of a definition, keyed by its camelCase field path; empty when it is fine.</summary>
    public static Dictionary<string, string[]> Validate(DeliveryDefinition d)
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

        if (d.ValidityPeriod <= TimeSpan.Zero)
        {
            Add("validityPeriod", "The validity period must be longer than zero, e.g. \"3.12:00:00\".");
        }

        if (d.RetryPeriod <= TimeSpan.Zero)
        {
            Add("retryPeriod", "The retry period must be longer than zero, e.g. \"01:00:00\".");
        }

        if (d.MaxRetries is < 0 or > MaxRetriesLimit)
        {
            Add("maxRetries", $"Use 0 to {MaxRetriesLimit} retries.");
        }

        if (d.Recurrence is { } recurrence)
        {
            if (recurrence.Every < TimeSpan.FromSeconds(1))
            {
                Add("recurrence.every", "Runs must be at least one second apart, e.g. \"1.00:00:00\".");
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
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < recipients.Count; i++)
            {
                var profileId = recipients[i]?.ProfileId;
                if (string.IsNullOrWhiteSpace(profileId))
                {
                    add($"recipients[{i}].profileId", "Every recipient needs a profileId.");
                }
                else if (profileId.Contains('/'))
                {
                    add($"recipients[{i}].profileId", "A profileId cannot contain '/'.");
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

    /// <summary>The longest subject, text or HTML a delivery's content may hold.</summary>
    public const int MaxContentLength = 1_000_000;

    /// <summary>R12: an SMTP delivery is email; its content parts are bounded and its subject is one line.</summary>
    private static void ValidateSmtp(DeliveryDefinition d, Action<string, string> add)
    {
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
    }

    private static void ValidateMta(MtaSettings mta, Action<string, string> add)
    {
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
    }
}
