using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.Api;

/// <summary><c>GET /api/deliveries/{id}/domains</c>: the delivery per destination domain (R12.3, R12.5).</summary>
public static class DomainEndpoints
{
    public static IEndpointRouteBuilder MapDeliveryDomains(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/deliveries/{id}/domains", async (string id, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IDeliveryGrain>(id).GetDomainsAsync()))
            .WithTags("Deliveries")
            .WithSummary("Per destination domain: toDeliver, sent, delivered, bouncesAndErrors (R8), the deferrals met (R12.3) and the rate cap per minute the relay applies now.")
            .RequireAuthorization();
        return app;
    }
}
