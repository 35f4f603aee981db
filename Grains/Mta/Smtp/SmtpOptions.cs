using System.ComponentModel.DataAnnotations;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using Microsoft.Extensions.Options;
using MimeKit;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>How the SMTP relay secures its connections to the smart host.</summary>
public enum StartTlsMode
{
    /// <summary>Plain SMTP, never STARTTLS.</summary>
    None,

    /// <summary>STARTTLS when the server offers it, plain otherwise.</summary>
    WhenAvailable,

    /// <summary>STARTTLS or no connection (a server that does not offer it defers every message, R12.3).</summary>
    Required,
}

/// <summary>
/// The SMTP relay (configuration section <c>Mta:Smtp</c>, R12): the smart host every message goes
/// to, the envelope and header identities, and the per-destination-domain pool and rate limits.
/// <see cref="Password"/> is read from configuration or the environment (<c>Mta__Smtp__Password</c>)
/// and never logged.
/// </summary>
public sealed class SmtpOptions
{
    public const string Section = "Mta:Smtp";

    /// <summary>Why a delivery with <c>mta.kind</c> Smtp is refused by a silo without a relay.</summary>
    public const string NotConfigured = "This silo has no SMTP relay: set Mta:Smtp:Host, Mta:Smtp:From and Mta:Smtp:BounceDomain to send with mta.kind \"Smtp\".";

    /// <summary>The smart host; the relay is off while it is unset.</summary>
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public StartTlsMode StartTls { get; set; } = StartTlsMode.WhenAvailable;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The header sender, e.g. <c>"News &lt;news@example.com&gt;"</c>.</summary>
    public string? From { get; set; }

    /// <summary>The domain of the VERP envelope senders and of the Message-IDs; bounces come back to it.</summary>
    public string? BounceDomain { get; set; }

    /// <summary>The name the relay greets the server with (EHLO); the machine's name when unset.</summary>
    public string? HeloName { get; set; }

    /// <summary>Connections (and so transactions in flight) per destination domain.</summary>
    [Range(1, 256)]
    public int ConnectionsPerDomain { get; set; } = 8;

    /// <summary>The highest rate per destination domain; deferrals lower a domain's rate below it (R12.3).</summary>
    [Range(1, 100_000_000)]
    public int RateCapPerMinute { get; set; } = 600_000;

    /// <summary>The lowest rate deferrals bring a domain down to.</summary>
    [Range(1, 100_000_000)]
    public int MinRatePerMinute { get; set; } = 60;

    /// <summary>Successes after which a lowered rate goes one step (a tenth) back up.</summary>
    [Range(1, 100_000)]
    public int RecoveryAfter { get; set; } = 20;

    /// <summary>The shortest time between two decreases of a domain's rate (a decrease needs time to show its effect).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RateDecreaseInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a message waits after its first deferral; doubled after each further one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan DeferralDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two tries of a deferred message.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxDeferralDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one SMTP command may take before the attempt is deferred as a timeout.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// While a destination domain's smart host takes no connection, one connection is tried this often
    /// (the breaker's probe); the domain's other connections wait, and resume at the rate they had once a probe connects.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Messages a destination domain's queue holds in memory; a partition that relays more waits for
    /// room, so a campaign of millions keeps its memory flat instead of queueing every recipient at once.
    /// </summary>
    [Range(100, 10_000_000)]
    public int MaxQueuedPerDomain { get; set; } = 20_000;

    /// <summary>An idle connection is closed after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    public override string ToString() => $"{Host}:{Port} (StartTls {StartTls})";
}

/// <summary>
/// Checks the relay's settings at start: when a host is set (or <c>Mta:Kind</c> is <c>Smtp</c>) the
/// sender and bounce domain must be usable, and a user name needs a password. The password's value is
/// never part of a message.
/// </summary>
public sealed class SmtpOptionsValidator(IOptions<MtaOptions> mta) : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        var errors = new List<string>();
        if (!options.IsConfigured)
        {
            if (mta.Value.Kind == MtaKind.Smtp)
            {
                errors.Add("Mta:Kind is Smtp but Mta:Smtp:Host is not set: name the SMTP relay (smart host) to send through.");
            }

            return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(options.From) || !MailboxAddress.TryParse(options.From, out var from) || !from.Address.Contains('@'))
        {
            errors.Add($"Mta:Smtp:From '{options.From}' is not a mailbox such as \"News <news@example.com>\".");
        }

        if (string.IsNullOrWhiteSpace(options.BounceDomain) || !MessageIdentity.IsDomain(options.BounceDomain))
        {
            errors.Add($"Mta:Smtp:BounceDomain '{options.BounceDomain}' is not a domain name such as \"bounces.example.com\".");
        }

        if (!string.IsNullOrEmpty(options.UserName) && string.IsNullOrEmpty(options.Password))
        {
            errors.Add("Mta:Smtp:UserName is set but Mta:Smtp:Password is not (give it in configuration or as Mta__Smtp__Password).");
        }

        if (options.MinRatePerMinute > options.RateCapPerMinute)
        {
            errors.Add($"Mta:Smtp:MinRatePerMinute ({options.MinRatePerMinute}) is above Mta:Smtp:RateCapPerMinute ({options.RateCapPerMinute}).");
        }

        if (options.DeferralDelay > options.MaxDeferralDelay)
        {
            errors.Add($"Mta:Smtp:DeferralDelay ({options.DeferralDelay}) is above Mta:Smtp:MaxDeferralDelay ({options.MaxDeferralDelay}).");
        }

        return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
