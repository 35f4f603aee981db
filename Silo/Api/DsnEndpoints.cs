using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using MimeKit;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// <c>POST /api/mta/dsn</c>: one delivery status notification (RFC 3464) as raw <c>message/rfc822</c> (R12.4);
/// <c>POST /api/mta/arf</c>: one abuse report (RFC 5965) the same way (R13.5).
/// </summary>
public static class DsnEndpoints
{
    /// <summary>The largest report taken over HTTP.</summary>
    public const int MaxReportBytes = 10_000_000;

    public static IEndpointRouteBuilder MapDsn(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/mta/dsn", PostAsync)
            .WithTags("MTA")
            .WithSummary("Takes one delivery status notification (raw message/rfc822) and applies it to the sending log it names (R12.4).")
            .Accepts<string>("message/rfc822", "text/plain", "application/octet-stream")
            .RequireAuthorization(Policies.Role(Roles.MtaFeedback));
        app.MapPost("/api/mta/arf", PostArfAsync)
            .WithTags("MTA")
            .WithSummary("Takes one abuse report (ARF, raw message/rfc822) and records a Complaint on the sending log it names (R13.5).")
            .Accepts<string>("message/rfc822", "text/plain", "application/octet-stream")
            .RequireAuthorization(Policies.Role(Roles.MtaFeedback));
        return app;
    }

    private static Task<Results<Accepted<FeedbackResponse>, ValidationProblem>> PostAsync(
        HttpRequest request, DsnInbox inbox, CancellationToken cancellationToken) =>
        TakeReportAsync(request,
            "Send the delivery status notification as the raw body (Content-Type: message/rfc822): a multipart/report with report-type=delivery-status.",
            report => inbox.ProcessAsync(report, []), inbox.Malformed, cancellationToken);

    private static Task<Results<Accepted<FeedbackResponse>, ValidationProblem>> PostArfAsync(
        HttpRequest request, ArfInbox inbox, CancellationToken cancellationToken) =>
        TakeReportAsync(request,
            "Send the abuse report as the raw body (Content-Type: message/rfc822): a multipart/report with report-type=feedback-report (RFC 5965).",
            inbox.ProcessAsync, inbox.Malformed, cancellationToken);

    /// <summary>Reads one raw report, hands it to its inbox and answers what the inbox did; a body that is no MIME message is the inbox's rejection.</summary>
    private static async Task<Results<Accepted<FeedbackResponse>, ValidationProblem>> TakeReportAsync(
        HttpRequest request, string whatToSend, Func<MimeMessage, Task<DsnResult>> process, Func<string, DsnResult> malformed,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadAsync(request, whatToSend, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        DsnResult result;
        try
        {
            using var stream = body!;
            result = await process(await MimeMessage.LoadAsync(stream, cancellationToken));
        }
        catch (FormatException ex)
        {
            result = malformed($"Not a MIME message: {ex.Message}");
        }

        return Answer(result);
    }

    private static Accepted<FeedbackResponse> Answer(DsnResult result) =>
        TypedResults.Accepted((string?)null, new FeedbackResponse(
            result.Outcome == DsnOutcome.Accepted ? 1 : 0,
            result.Outcome == DsnOutcome.Duplicate ? 1 : 0,
            result.Outcome == DsnOutcome.Rejected ? [new FeedbackRejection(0, result.Error!)] : []));

    /// <summary>The raw body, at most <see cref="MaxReportBytes"/>; a problem naming what to send when it is empty or too large.</summary>
    private static async Task<(MemoryStream? Body, ValidationProblem? Problem)> ReadAsync(HttpRequest request, string whatToSend, CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > MaxReportBytes)
            {
                return (null, Problems.Invalid(new Dictionary<string, string[]> { [""] = [$"Send one report of at most {MaxReportBytes:N0} bytes."] }));
            }
        }

        if (body.Length == 0)
        {
            return (null, Problems.Invalid(new Dictionary<string, string[]> { [""] = [whatToSend] }));
        }

        body.Position = 0;
        return (body, null);
    }
}
