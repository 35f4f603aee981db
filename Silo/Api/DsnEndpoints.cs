using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using MimeKit;

namespace DeliveryGrains.Silo.Api;

/// <summary><c>POST /api/mta/dsn</c>: one delivery status notification (RFC 3464) as raw <c>message/rfc822</c> (R12.4).</summary>
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
        return app;
    }

    private static async Task<Results<Accepted<FeedbackResponse>, ValidationProblem>> PostAsync(
        HttpRequest request, DsnInbox inbox, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > MaxReportBytes)
            {
                return Problems.Invalid(new Dictionary<string, string[]> { [""] = [$"Send one report of at most {MaxReportBytes:N0} bytes."] });
            }
        }

        if (body.Length == 0)
        {
            return Problems.Invalid(new Dictionary<string, string[]>
            {
                [""] = ["Send the delivery status notification as the raw body (Content-Type: message/rfc822): a multipart/report with report-type=delivery-status."],
            });
        }

        body.Position = 0;
        DsnResult result;
        try
        {
            var report = await MimeMessage.LoadAsync(body, cancellationToken);
            result = await inbox.ProcessAsync(report, []);
        }
        catch (FormatException ex)
        {
            result = inbox.Malformed($"Not a MIME message: {ex.Message}");
        }

        return TypedResults.Accepted((string?)null, new FeedbackResponse(
            result.Outcome == DsnOutcome.Accepted ? 1 : 0,
            result.Outcome == DsnOutcome.Duplicate ? 1 : 0,
            result.Outcome == DsnOutcome.Rejected ? [new FeedbackRejection(0, result.Error!)] : []));
    }
}
