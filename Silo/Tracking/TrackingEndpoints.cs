using System.Net;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tracking;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryGrains.Silo.Tracking;

/// <summary>
/// The public, keyless endpoints a recipient's mail client and browser reach (R13), apart from
/// <c>/api</c>: the open pixel, the click redirect and one-click unsubscribe. Each takes a signed
/// token (<see cref="TrackingToken"/>) checked without a database read; a token that is tampered
/// with, unknown or of another kind answers 404 and never redirects.
/// </summary>
public static partial class TrackingEndpoints
{
    /// <summary>A transparent 1×1 GIF89a.</summary>
    private static readonly byte[] Pixel =
    [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ];

    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/t").WithTags("Tracking").AllowAnonymous();
        group.MapGet("/o/{token}", OpenAsync).WithSummary("R13.2: the open pixel; records an Open.");
        group.MapGet("/c/{token}", ClickAsync).WithSummary("R13.2: a tracked link; records a Click and redirects to the original URL.");
        group.MapGet("/u/{token}", UnsubscribePage).WithSummary("R13.4: a page with one button that unsubscribes; never unsubscribes by itself.");
        group.MapPost("/u/{token}", UnsubscribeAsync).WithSummary("R13.4: one-click unsubscribe (RFC 8058): body List-Unsubscribe=One-Click.");
        group.MapGet("/m/{token}", MirrorPageAsync).WithSummary("The mirror page: the message as this recipient got it, as a web page.");
        return app;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> OpenAsync(
        string token, HttpContext http, TrackingKeys keys, TrackingRecorder recorder, TimeProvider time)
    {
        if (TrackingToken.Read(token, TokenKind.Open, await keys.KeyAsync()) is not { } claims)
        {
            return UnknownLink();
        }

        var outcome = await recorder.RecordAsync(claims.DeliveryId, claims.Partition, Hit(claims, FeedbackType.Open, time), http.RequestAborted);
        if (outcome == HitOutcome.NotStored)
        {
            // Not counted: a mail client loads the image again later; answering it as served would lose the open.
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Try again later");
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.File(Pixel, "image/gif");
    }

    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> ClickAsync(
        string token, HttpContext http, TrackingKeys keys, DeliveryLinkTable linkTable, TrackingRecorder recorder, TimeProvider time, ILoggerFactory loggers)
    {
        if (TrackingToken.Read(token, TokenKind.Click, await keys.KeyAsync()) is not { } claims)
        {
            return UnknownLink();
        }

        // A link fixed in the content is named by its index alone (R13.1): its URL is the delivery's link table's.
        var url = claims.Url;
        if (url is null)
        {
            try
            {
                url = await linkTable.UrlAsync(claims.DeliveryId, claims.Link);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogLinkTableUnavailable(loggers.CreateLogger(typeof(TrackingEndpoints)), claims.DeliveryId, ex);
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Try again later");
            }

            claims = claims with { Url = url };
        }

        if (string.IsNullOrEmpty(url))
        {
            return UnknownLink();
        }

        var outcome = await recorder.RecordAsync(claims.DeliveryId, claims.Partition, Hit(claims, FeedbackType.Click, time), http.RequestAborted);
        if (outcome == HitOutcome.NotStored)
        {
            // The recipient still gets where the link goes; the click is counted as lost (deliverygrains.tracking.hits).
            LogClickNotStored(loggers.CreateLogger(typeof(TrackingEndpoints)), claims.DeliveryId);
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(LinkRewriter.ToHeaderValue(url));
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> UnsubscribePage(string token, TrackingKeys keys)
    {
        if (TrackingToken.Read(token, TokenKind.Unsubscribe, await keys.KeyAsync()) is null)
        {
            return UnknownLink();
        }

        // A GET never unsubscribes (R13.4): mail scanners follow every link of a message.
        return TypedResults.Content(Page("Unsubscribe",
            "<p>Stop receiving these messages?</p>"
            + "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
            + "<button type=\"submit\">Unsubscribe</button></form>"), "text/html; charset=utf-8");
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult, ValidationProblem>> UnsubscribeAsync(
        string token, HttpRequest request, TrackingKeys keys, IGrainFactory grains, TimeProvider time)
    {
        if (TrackingToken.Read(token, TokenKind.Unsubscribe, await keys.KeyAsync()) is not { } claims)
        {
            return UnknownLink();
        }

        if (!await IsOneClickAsync(request))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["body"] = [$"Send the form body {MessageTracking.OneClick} (RFC 8058), as application/x-www-form-urlencoded or multipart/form-data; nothing was changed."],
            });
        }

        var outcome = await grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(claims.DeliveryId, claims.Partition))
            .UnsubscribeAsync(claims.RecipientIndex, claims.ProfileId, time.GetUtcNow());
        return outcome == AnswerOutcome.NoMessage
            ? UnknownLink()
            : TypedResults.Content(Page("Unsubscribed", "<p>You are unsubscribed: no more of these messages will be sent to you.</p>"), "text/html; charset=utf-8");
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> MirrorPageAsync(
        string token, HttpContext http, TrackingKeys keys, IGrainFactory grains)
    {
        var signer = await keys.SignerAsync();
        if (TrackingToken.Read(token, TokenKind.MirrorPage, signer.Key) is not { } claims
            || await MirrorPage.RenderAsync(grains, claims, signer) is not { } html)
        {
            return UnknownLink();
        }

        // The sender's HTML, served from the silo's own origin: sandboxed (a unique origin, no script),
        // so nothing in it can read the console's cookies or call the API as a signed-in user.
        http.Response.Headers.ContentSecurityPolicy = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; style-src * 'unsafe-inline'; font-src * data:";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>RFC 8058: the POST's body is exactly the one field <c>List-Unsubscribe=One-Click</c>.</summary>
    private static async Task<bool> IsOneClickAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return false;
        }

        try
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            return form.Count == 1 && form.Files.Count == 0
                && form.TryGetValue("List-Unsubscribe", out var value) && value.Count == 1 && value[0] == "One-Click";
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    private static TrackingHit Hit(TrackingClaims claims, FeedbackType type, TimeProvider time) =>
        new(claims.RecipientIndex, claims.ProfileId, Guid.NewGuid(), type, claims.Link, claims.Url, time.GetUtcNow());

    private static ProblemHttpResult UnknownLink() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown link",
            detail: "This link is not one of ours, or it was changed on the way.");

    /// <summary>A small page of our own; <paramref name="body"/> is fixed markup, never a caller's text.</summary>
    private static string Page(string title, string body) =>
        $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{WebUtility.HtmlEncode(title)}</title></head>"
        + $"<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><h1>{WebUtility.HtmlEncode(title)}</h1>{body}</body></html>";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tracking: the link table of delivery {DeliveryId} could not be read; the click was answered 503")]
    private static partial void LogLinkTableUnavailable(ILogger logger, string deliveryId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tracking: a click on delivery {DeliveryId} was redirected but could not be stored")]
    private static partial void LogClickNotStored(ILogger logger, string deliveryId);
}

/// <summary>The silo's own base URL (the default of <c>Tracking:BaseUrl</c>): the first address Kestrel listens on, a wildcard host read as 127.0.0.1.</summary>
public sealed class KestrelPublicUrl(IServer server) : ISiloPublicUrl
{
    public string? BaseUrl
    {
        get
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
            var first = addresses?.OrderByDescending(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)).FirstOrDefault();
            if (first is null || !Uri.TryCreate(first.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                return null;
            }

            var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.IdnHost;
            return $"{uri.Scheme}://{host}:{uri.Port}";
        }
    }
}
