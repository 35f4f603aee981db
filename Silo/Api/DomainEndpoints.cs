using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.Api;

/// <summary><c>GET /api/deliveries/{id}/domains</c>: the delivery per destination domain (R12.3, R12.5); <c>…/bounces</c>: its bounces by type and reason (R8.3).</summary>
public static class DomainEndpoints
{
    public static IEndpointRouteBuilder MapDeliveryDomains(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/deliveries/{id}/domains", async (string id, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IDeliveryGrain>(id).GetDomainsAsync()))
            .WithTags("Deliveries")
            .WithSummary("Per destination domain: toDeliver, sent, delivered, bouncesAndErrors (R8), the deferrals met (R12.3) and the rate cap per minute the relay applies now.")
            .RequireAuthorization();
        app.MapGet("/api/deliveries/{id}/bounces", async (string id, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IDeliveryGrain>(id).GetBouncesAsync()))
            .WithTags("Deliveries")
            .WithSummary("The bounces and errors (R8.3) by failure type and reason (R4), counted by the partitions; the most frequent first.")
            .RequireAuthorization();
        return app;
    }
}
