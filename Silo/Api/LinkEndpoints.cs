using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.Api;

/// <summary>R13.3: one tracked link of a delivery as the API shows it.</summary>
public sealed record LinkResponse(string Url, long Clicks, long UniqueClicks);

/// <summary><c>GET /api/deliveries/{id}/links</c>: clicks and unique clickers per tracked link (R13.3).</summary>
public static class LinkEndpoints
{
    public static IEndpointRouteBuilder MapDeliveryLinks(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/deliveries/{id}/links", async (string id, IGrainFactory grains) =>
                TypedResults.Ok((await grains.GetGrain<IDeliveryGrain>(id).ListLinksAsync())
                    .Select(l => new LinkResponse(l.Url, l.Clicks, l.UniqueClicks)).ToList()))
            .WithTags("Deliveries")
            .WithSummary("Per tracked link, in the order of the message: its original URL, its clicks and the recipients who clicked it (R13.3).")
            .RequireAuthorization()
            .ValidateRouteIds();
        return app;
    }
}
