using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// A refusal met in the browser (a stale form, a missing role, a page that is not there, a bad
/// request) as a console page instead of problem-details JSON: the same status, title and detail, a
/// way back to the form (the browser keeps what was typed in its history) and the way home. Only
/// requests that ask for HTML get it; the API and every other caller keep RFC 7807 JSON.
/// </summary>
public sealed class ConsoleProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => WantsPage(context.HttpContext.Request);

    /// <summary>A browser navigation or the console's own form posts (they ask for HTML); never /api, metrics or health.</summary>
    public static bool WantsPage(HttpRequest request)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health"))
        {
            return false;
        }

        return MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
            && accepted.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && a.Quality is not 0);
    }

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? http.Response.StatusCode;
        var title = problem.Title ?? (status == StatusCodes.Status404NotFound ? "Not found" : "Request refused");
        var detail = problem.Detail ?? (status == StatusCodes.Status404NotFound ? "There is no console page at this address." : "");
        var html = HtmlEncoder.Default;
        var page = new StringBuilder(2048);
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(html.Encode(title)).Append(" · DeliveryGrains</title>")
            .Append("<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"16x16 32x32\">")
            .Append("<link rel=\"stylesheet\" href=\"").Append(html.Encode(ConsoleAssets.Href("console.css"))).Append("\">")
            .Append("<script src=\"").Append(html.Encode(ConsoleAssets.Href("console.js"))).Append("\" defer></script></head><body>")
            .Append("<a class=\"skip-link\" href=\"#main\">Skip to content</a>")
            .Append("<header class=\"topbar\"><a class=\"brand\" href=\"/\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>DeliveryGrains</a></header>")
            .Append("<main class=\"page\" id=\"main\" tabindex=\"-1\"><section class=\"card problem\" data-problem data-status=\"").Append(status).Append("\">")
            .Append("<h1 data-problem-title>").Append(html.Encode(title)).Append("</h1>")
            .Append("<p data-problem-detail>").Append(html.Encode(detail)).Append("</p>");
        if (problem is ValidationProblemDetails { Errors.Count: > 0 } invalid)
        {
            page.Append("<ul data-problem-errors>");
            foreach (var (field, messages) in invalid.Errors)
            {
                foreach (var message in messages)
                {
                    page.Append("<li><code>").Append(html.Encode(field)).Append("</code>: ").Append(html.Encode(message)).Append("</li>");
                }
            }

            page.Append("</ul>");
        }

        page.Append("<p class=\"actions\">");
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            // Back in history shows the form as it was left, with what was typed.
            page.Append("<a class=\"button primary\" href=\"").Append(html.Encode(SameSiteReferrer(http.Request) ?? "/")).Append("\" data-back>Back to the form</a>");
        }

        page.Append("<a class=\"button\" href=\"/\">Deliveries</a></p></section></main></body></html>");
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        OperatorConsoleHostingExtensions.SecureHeaders(http.Response.Headers);
        await http.Response.WriteAsync(page.ToString(), http.RequestAborted);
    }

    /// <summary>The page the form was on, when it is one of this silo's (a path, never another site).</summary>
    private static string? SameSiteReferrer(HttpRequest request) =>
        Uri.TryCreate(request.Headers.Referer.ToString(), UriKind.Absolute, out var referrer)
        && string.Equals(referrer.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            ? referrer.PathAndQuery
            : null;
}
