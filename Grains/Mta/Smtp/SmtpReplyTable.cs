using System.Text.RegularExpressions;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>What one SMTP transaction came to.</summary>
public enum SmtpVerdict
{
    /// <summary>250 after DATA: the message is relayed (R12.1).</summary>
    Relayed,

    /// <summary>Not an attempt and not the recipient's failure: the message goes again later (R12.3).</summary>
    Deferred,

    /// <summary>A refusal: the attempt's hard or soft bounce (R12.2).</summary>
    Bounced,
}

/// <summary>
/// A reply qualified: the verdict and, for a bounce, its event type and reason. <see cref="NoConnection"/>
/// says no connection to the server could be made at all (the domain's breaker opens), as opposed to a
/// server that answered or dropped a connection it had taken; <see cref="ContentFailed"/> that the
/// message could not be rendered (R14.1), so no server saw it.
/// </summary>
public readonly record struct SmtpQualification(
    SmtpVerdict Verdict, FeedbackType? Bounce, FailureReason? Reason, string Rule, bool NoConnection = false, bool ContentFailed = false)
{
    /// <summary>R14.1: the message could not be rendered; it fails for good (it would fail again) without blaming its address.</summary>
    public static SmtpQualification ContentFailure(string reason) => new(SmtpVerdict.Bounced, FeedbackType.HardBounce, FailureReason.NotDefined, reason, ContentFailed: true);

    public static SmtpQualification Relayed { get; } = new(SmtpVerdict.Relayed, null, null, "250");
}

/// <summary>
/// The one qualification table of R12.2 and R12.3: an SMTP reply (RFC 5321 basic code, RFC 3463
/// enhanced status code when the text starts with one) becomes a relay, a deferral or a bounce with
/// its R4 type and reason. Rows are read top to bottom; the first that matches decides. A reply
/// without an enhanced code is read as class.0.0 of its basic code (a 550 as 5.0.0). The same table
/// qualifies the status of a delivery status notification (R12.4).
/// </summary>
public static partial class SmtpReplyTable
{
    /// <summary>One row: the basic code or enhanced code pattern it matches and what it means.</summary>
    public sealed record Row(string Pattern, string Meaning, Func<int, EnhancedStatus, string, bool> Matches, SmtpVerdict Verdict, FeedbackType? Bounce, FailureReason? Reason);

    /// <summary>The table, in the order it is read; the README shows the same rows.</summary>
    public static IReadOnlyList<Row> Rows { get; } =
    [
        new("421", "service not available, closing (any enhanced code)", (code, _, _) => code == 421, SmtpVerdict.Deferred, null, null),
        new("4.7.x saying rate limited or greylisted", "the sender is throttled or greylisted", (_, s, text) => s.Is(4, 7) && SaysThrottled(text), SmtpVerdict.Deferred, null, null),
        new("5.1.1", "bad destination mailbox", (_, s, _) => s.Is(5, 1, 1), SmtpVerdict.Bounced, FeedbackType.HardBounce, FailureReason.UserUnknown),
        new("5.1.10", "recipient address has null MX", (_, s, _) => s.Is(5, 1, 10), SmtpVerdict.Bounced, FeedbackType.HardBounce, FailureReason.UserUnknown),
        new("5.1.2", "bad destination system (a permanent reply makes it hard)", (_, s, _) => s.Is(5, 1, 2), SmtpVerdict.Bounced, FeedbackType.HardBounce, FailureReason.InvalidDomain),
        new("4.2.2", "mailbox full", (_, s, _) => s.Is(4, 2, 2), SmtpVerdict.Bounced, FeedbackType.SoftBounce, FailureReason.MailboxFull),
        new("5.2.2", "mailbox full", (_, s, _) => s.Is(5, 2, 2), SmtpVerdict.Bounced, FeedbackType.SoftBounce, FailureReason.MailboxFull),
        new("5.7.x", "security or policy refusal (Refused, soft as R4 says)", (_, s, _) => s.Is(5, 7), SmtpVerdict.Bounced, FeedbackType.SoftBounce, FailureReason.Refused),
        new("5.x.x", "any other permanent refusal", (_, s, _) => s.Class == 5, SmtpVerdict.Bounced, FeedbackType.HardBounce, FailureReason.NotDefined),
        new("4.x.x", "any other transient refusal", (_, s, _) => s.Class == 4, SmtpVerdict.Bounced, FeedbackType.SoftBounce, FailureReason.NotDefined),
    ];

    /// <summary>Qualifies the final reply of a transaction: <paramref name="code"/> is the basic reply code, <paramref name="text"/> what followed it.</summary>
    public static SmtpQualification Qualify(int code, string? text)
    {
        if (code is >= 200 and < 300)
        {
            return SmtpQualification.Relayed;
        }

        text ??= "";
        var status = EnhancedStatus.Parse(text) ?? new EnhancedStatus(code / 100, 0, 0);
        foreach (var row in Rows)
        {
            if (row.Matches(code, status, text))
            {
                return new SmtpQualification(row.Verdict, row.Bounce, row.Reason, row.Pattern);
            }
        }

        // A reply outside 2xx, 4xx and 5xx (a broken server): nothing was accepted, so it goes again.
        return new SmtpQualification(SmtpVerdict.Deferred, null, null, $"unexpected reply {code}");
    }

    /// <summary>R12.3: no connection, a timeout, a TLS failure or a dropped connection.</summary>
    public static SmtpQualification Unanswered(string why) => new(SmtpVerdict.Deferred, null, null, why);

    /// <summary>R12.3: not even a connection could be made (refused, unreachable, timed out while connecting).</summary>
    public static SmtpQualification Unreachable(string why) => new(SmtpVerdict.Deferred, null, null, why, NoConnection: true);

    /// <summary>Qualifies an RFC 3464 status (<c>5.1.1</c>) for a <c>failed</c> action: hard or soft by the same rows (R12.4).</summary>
    public static SmtpQualification QualifyStatus(EnhancedStatus status, string? diagnostic)
    {
        var code = status.Class == 5 ? 550 : status.Class == 4 ? 450 : 250;
        var q = Qualify(code, $"{status} {diagnostic}");

        // A report says the message failed for good: what the live reply would have deferred is a soft bounce here.
        return q.Verdict == SmtpVerdict.Deferred ? new SmtpQualification(SmtpVerdict.Bounced, FeedbackType.SoftBounce, FailureReason.NotDefined, q.Rule) : q;
    }

    private static bool SaysThrottled(string text) => ThrottleWords().IsMatch(text);

    [GeneratedRegex(@"rate|limit|throttl|too many|too fast|grey ?list|gray ?list|try (again )?later", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ThrottleWords();
}

/// <summary>An RFC 3463 enhanced status code, class.subject.detail.</summary>
public readonly partial record struct EnhancedStatus(int Class, int Subject, int Detail)
{
    public bool Is(int @class, int subject) => Class == @class && Subject == subject;

    public bool Is(int @class, int subject, int detail) => Class == @class && Subject == subject && Detail == detail;

    /// <summary>The enhanced code a text starts with (RFC 3463: class 2, 4 or 5; subject and detail up to three digits), or null.</summary>
    public static EnhancedStatus? Parse(string text)
    {
        var m = Pattern().Match(text);
        return m.Success
            ? new EnhancedStatus(m.Groups[1].ValueSpan[0] - '0', int.Parse(m.Groups[2].ValueSpan, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[3].ValueSpan, System.Globalization.CultureInfo.InvariantCulture))
            : null;
    }

    public override string ToString() => $"{Class}.{Subject}.{Detail}";

    [GeneratedRegex(@"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
