using Microsoft.AspNetCore.Http.Features;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// A body whose declared length (<c>Content-Length</c>) is over the API's limit is refused before any
/// of it is read, whatever the endpoint. The framework finds the excess only when an endpoint reads that
/// far, and a caller that sent only its headers waited for Kestrel's body timeout and got a 408.
/// </summary>
public static class DeclaredBodyLimit
{
    public static IApplicationBuilder UseDeclaredBodyLimit(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            // The API's limit; the console's upload form sets its own, larger one per request.
            if (context.Request.Path.StartsWithSegments("/api")
                && context.Request.ContentLength is { } declared
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
                && declared > limit)
            {
                // Answered by the exception handler as every other 413 (DomainExceptionHandler).
                throw new BadHttpRequestException($"Request body too large: {declared:N0} bytes declared.", StatusCodes.Status413PayloadTooLarge);
            }

            await next(context);
        });
}
