using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Utils;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// R13.5: abuse reports (ARF, RFC 5965: <c>multipart/report; report-type=feedback-report</c>) from
/// mailbox providers' feedback loops, through <c>POST /api/mta/arf</c> or the inbound listener. The
/// log is found, in order, by the report's <c>Original-Mail-From</c> (our VERP sender), the returned
/// original's <c>Message-ID</c>, then its <c>Return-Path</c>; the report records a <c>Complaint</c>
/// on it (R9.5: the address goes OnDenylist; the delivery counts the recipient once). The event id
/// is the report's own Message-ID (or a hash of the report), so a report sent twice is a duplicate.
/// A report that is no ARF, or names no log of ours, is rejected with its reason and counted
/// (<c>deliverygrains.arf.reports</c>), never dropped without a trace.
/// </summary>
public sealed partial class ArfInbox
{
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<ArfInbox> _logger;
    private readonly Counter<long> _reports;

    public ArfInbox(IGrainFactory grains, TimeProvider time, IMeterFactory meters, ILogger<ArfInbox> logger)
    {
        _grains = grains;
        _time = time;
        _logger = logger;
        _reports = meters.Create("DeliveryGrains").CreateCounter<long>(
            "deliverygrains.arf.reports", "{report}", "Abuse reports (ARF) received, by outcome (accepted, duplicate, rejected).");
    }

    /// <summary>Whether <paramref name="message"/> is an abuse report rather than a delivery status notification.</summary>
    public static bool IsArf(MimeMessage message) =>
        message.Body is MultipartReport report && string.Equals(report.ReportType, "feedback-report", StringComparison.OrdinalIgnoreCase);

    public async Task<DsnResult> ProcessAsync(MimeMessage report)
    {
        var result = await ApplyAsync(report);
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

    private async Task<DsnResult> ApplyAsync(MimeMessage report)
    {
        if (report.Body is not MultipartReport multipart || !IsArf(report))
        {
            return DsnResult.Reject("Not an abuse report: expected a multipart/report with report-type=feedback-report (RFC 5965).");
        }

        var fields = multipart.OfType<MessageFeedbackReport>().FirstOrDefault()?.Fields;
        if (fields is null)
        {
            return DsnResult.Reject("The report has no message/feedback-report part (RFC 5965 §3.1).");
        }

        var original = Original(multipart);
        if (original is null && MessageIdentity.FromEnvelopeSender(fields["Original-Mail-From"]) is null)
        {
            return DsnResult.Reject("The report holds neither the original message nor its headers (RFC 5965 §2, third part), and no Original-Mail-From of ours: it names no sending log.");
        }

        var log = MessageIdentity.FromEnvelopeSender(fields["Original-Mail-From"])
            ?? MessageIdentity.FromMessageId(original?.MessageId)
            ?? MessageIdentity.FromEnvelopeSender(original?.Headers["Return-Path"]);
        if (log is not { } identity)
        {
            return DsnResult.Reject("The report names no sending log: no Original-Mail-From (bounces+…), original Message-ID or Return-Path of ours.");
        }

        var at = fields["Arrival-Date"] is { } text && DateUtils.TryParse(text, out var date) && date <= _time.GetUtcNow() ? date : _time.GetUtcNow();
        var complaint = new FeedbackEvent(EventId(report), identity.DeliveryId, identity.ProfileId, FeedbackType.Complaint, null, at);
        try
        {
            var outcome = await _grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(identity.DeliveryId, identity.ProfileId)).ApplyFeedbackAsync(complaint);
            return new DsnResult(outcome == FeedbackOutcome.Duplicate ? DsnOutcome.Duplicate : DsnOutcome.Accepted);
        }
        catch (NotFoundException ex)
        {
            return DsnResult.Reject(ex.Message);
        }
    }

    /// <summary>The returned original: a <c>message/rfc822</c> part, or the headers of a <c>text/rfc822-headers</c> one.</summary>
    private static MimeMessage? Original(MultipartReport multipart)
    {
        foreach (var part in multipart.Skip(1))
        {
            switch (part)
            {
                case MessagePart { Message: { } message }:
                    return message;
                case MimePart { Content: { } content } mime when mime.ContentType.IsMimeType("text", "rfc822-headers"):
                    using (var stream = new MemoryStream())
                    {
                        content.DecodeTo(stream);
                        stream.Write("\r\n"u8);
                        stream.Position = 0;
                        try
                        {
                            return MimeMessage.Load(stream);
                        }
                        catch (FormatException)
                        {
                            return null;
                        }
                    }
            }
        }

        return null;
    }

    private static string EventId(MimeMessage report)
    {
        var id = report.MessageId;
        if (string.IsNullOrEmpty(id))
        {
            using var buffer = new MemoryStream();
            report.WriteTo(buffer);
            id = Convert.ToHexString(SHA256.HashData(buffer.ToArray()))[..32];
        }

        return $"arf:{id}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Abuse report rejected: {Reason}")]
    private partial void LogRejected(string reason);
}
