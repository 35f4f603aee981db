using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Utils;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>What became of one delivery status notification.</summary>
public enum DsnOutcome
{
    /// <summary>Matched a log and applied (a <c>delayed</c> report is accepted and changes nothing, R12.4).</summary>
    Accepted,

    /// <summary>Matched a log that had already taken this report.</summary>
    Duplicate,

    /// <summary>Not a report, or one that names no log: counted, with the reason.</summary>
    Rejected,
}

public readonly record struct DsnResult(DsnOutcome Outcome, string? Error = null)
{
    public static DsnResult Reject(string error) => new(DsnOutcome.Rejected, error);
}

/// <summary>
/// Turns delivery status notifications (RFC 3464 <c>multipart/report; report-type=delivery-status</c>)
/// into feedback events (R12.4), whether they come through <c>POST /api/mta/dsn</c> or the inbound
/// SMTP listener. The log is found by, in order: the VERP address the report was sent to (envelope
/// recipient or <c>To</c>), the <c>Original-Envelope-Id</c> (the relay sends the Message-ID as ENVID),
/// the Message-ID of the returned message or headers. A <c>failed</c> action is a hard or soft bounce
/// by its status through <see cref="SmtpReplyTable"/>; <c>delivered</c> and <c>relayed</c> are
/// Delivered; <c>delayed</c> changes nothing. The event id is the report's own Message-ID (or a hash
/// of it), so a report posted twice is a duplicate. Rejected reports are counted
/// (<c>deliverygrains.dsn.rejected</c>) and logged with their reason, never dropped without a trace.
/// </summary>
public sealed partial class DsnInbox
{
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<DsnInbox> _logger;
    private readonly Counter<long> _reports;

    public DsnInbox(IGrainFactory grains, TimeProvider time, IMeterFactory meters, ILogger<DsnInbox> logger)
    {
        _grains = grains;
        _time = time;
        _logger = logger;
        _reports = meters.Create("DeliveryGrains").CreateCounter<long>(
            "deliverygrains.dsn.reports", "{report}", "Delivery status notifications received, by outcome (accepted, duplicate, rejected).");
    }

    /// <summary>Reads one report and applies it; <paramref name="envelopeRecipients"/> are the RCPT TO addresses when it came over SMTP.</summary>
    public async Task<DsnResult> ProcessAsync(MimeMessage report, IReadOnlyList<string> envelopeRecipients)
    {
        var result = await ApplyAsync(report, envelopeRecipients);
        _reports.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant()));
        if (result.Outcome == DsnOutcome.Rejected)
        {
            LogRejected(result.Error!);
        }

        return result;
    }

    /// <summary>A raw message that could not even be parsed as MIME: counted as rejected.</summary>
    public DsnResult Malformed(string why)
    {
        _reports.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"));
        LogRejected(why);
        return DsnResult.Reject(why);
    }

    private async Task<DsnResult> ApplyAsync(MimeMessage report, IReadOnlyList<string> envelopeRecipients)
    {
        if (report.Body is not MultipartReport multipart || !string.Equals(multipart.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase))
        {
            return DsnResult.Reject("Not a delivery status notification: expected a multipart/report with report-type=delivery-status (RFC 3464).");
        }

        var status = multipart.OfType<MessageDeliveryStatus>().FirstOrDefault();
        if (status is null || status.StatusGroups.Count < 2)
        {
            return DsnResult.Reject("The report has no message/delivery-status part with a per-recipient group (RFC 3464 §2.3).");
        }

        var perMessage = status.StatusGroups[0];
        var recipient = status.StatusGroups.Skip(1).FirstOrDefault(g => g["Action"] is not null);
        var action = recipient?["Action"]?.Trim().ToLowerInvariant();
        if (recipient is null || string.IsNullOrEmpty(action))
        {
            return DsnResult.Reject("The per-recipient group has no Action field (RFC 3464 §2.3.3).");
        }

        var identity = Identify(report, multipart, perMessage, envelopeRecipients);
        if (identity is not { } log)
        {
            return DsnResult.Reject("The report names no sending log: no VERP address (bounces+…), Original-Envelope-Id or returned Message-ID of ours.");
        }

        FeedbackEvent? feedback;
        var at = ArrivalDate(recipient) ?? _time.GetUtcNow();
        var eventId = EventId(report, action);
        switch (action)
        {
            case "failed":
                var code = recipient["Status"]?.Trim() ?? "";
                if (EnhancedStatus.Parse(code) is not { } enhanced)
                {
                    return DsnResult.Reject($"The failed report's Status '{code}' is not an RFC 3463 code such as 5.1.1.");
                }

                var q = SmtpReplyTable.QualifyStatus(enhanced, recipient["Diagnostic-Code"]);
                feedback = new FeedbackEvent(eventId, log.DeliveryId, log.ProfileId, q.Bounce!.Value, q.Reason, at);
                break;
            case "delivered" or "relayed" or "expanded":
                feedback = new FeedbackEvent(eventId, log.DeliveryId, log.ProfileId, FeedbackType.Delivered, null, at);
                break;
            case "delayed":
                // R12.4: a delay report changes nothing; it still has to name a log to be accepted.
                feedback = null;
                break;
            default:
                return DsnResult.Reject($"Action '{action}' is not one of failed, delayed, delivered, relayed, expanded (RFC 3464 §2.3.3).");
        }

        try
        {
            var logGrain = _grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(log.DeliveryId, log.ProfileId));
            if (feedback is null)
            {
                return await logGrain.GetLogAsync() is null
                    ? DsnResult.Reject($"Delivery '{log.DeliveryId}' has no relayed message for profile '{log.ProfileId}'.")
                    : new DsnResult(DsnOutcome.Accepted);
            }

            var outcome = await logGrain.ApplyFeedbackAsync(feedback);
            return new DsnResult(outcome == FeedbackOutcome.Duplicate ? DsnOutcome.Duplicate : DsnOutcome.Accepted);
        }
        catch (NotFoundException ex)
        {
            return DsnResult.Reject(ex.Message);
        }
    }

    private static LogIdentity? Identify(MimeMessage report, MultipartReport multipart, HeaderList perMessage, IReadOnlyList<string> envelopeRecipients)
    {
        foreach (var address in envelopeRecipients.Concat(report.To.Mailboxes.Select(m => m.Address)))
        {
            if (MessageIdentity.FromEnvelopeSender(address) is { } verp)
            {
                return verp;
            }
        }

        if (MessageIdentity.FromMessageId(perMessage["Original-Envelope-Id"]?.Trim()) is { } envelope)
        {
            return envelope;
        }

        foreach (var part in multipart.OfType<MessagePart>())
        {
            if (MessageIdentity.FromMessageId(part.Message?.MessageId) is { } returned)
            {
                return returned;
            }
        }

        return null;
    }

    private static DateTimeOffset? ArrivalDate(HeaderList recipient) =>
        recipient["Last-Attempt-Date"] is { } text && DateUtils.TryParse(text, out var date) ? date : null;

    private static string EventId(MimeMessage report, string action)
    {
        var id = report.MessageId;
        if (string.IsNullOrEmpty(id))
        {
            using var buffer = new MemoryStream();
            report.WriteTo(buffer);
            id = Convert.ToHexString(SHA256.HashData(buffer.ToArray()))[..32];
        }

        return $"dsn:{action}:{id}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery status notification rejected: {Reason}")]
    private partial void LogRejected(string reason);
}
