using System.Net.ServerSentEvents;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DeliveryGrains.Silo.OperatorConsole.Live;

public static class LiveEndpoints
{
    /// <summary>The shared watchers behind <c>GET /api/deliveries/{id}/live</c>.</summary>
    public static IServiceCollection AddLiveFeed(this IServiceCollection services)
    {
        services.AddOptions<LiveFeedOptions>().BindConfiguration(LiveFeedOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDeliveryFeedSource, GrainFeedSource>();
        services.TryAddSingleton<DeliveryFeed>();
        return services;
    }

    /// <summary>
    /// <c>GET /api/deliveries/{id}/live</c> (any authenticated user, key or console cookie): the
    /// delivery's Deployment block as Server-Sent Events, its current state first, then every change
    /// within a second. An unknown delivery is a 404 before the stream opens.
    /// </summary>
    public static IEndpointRouteBuilder MapLiveFeed(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/deliveries").WithTags("Deliveries").RequireAuthorization().ValidateRouteIds()
            .MapGet("/{id}/live", WatchAsync)
            .WithSummary("The delivery's view, new timeline points and charts as Server-Sent Events (events 'view', 'timeline', 'charts'), pushed within a second of a change.");
        return app;
    }

    private static async Task<ServerSentEventsResult<string>> WatchAsync(string id, IGrainFactory grains, DeliveryFeed feed, CancellationToken cancellationToken)
    {
        // An unknown delivery answers 404 (its grain refuses the read) instead of an empty stream.
        await grains.GetGrain<IDeliveryGrain>(id).GetViewAsync();
        return TypedResults.ServerSentEvents(feed.SubscribeAsync(id, cancellationToken));
    }
}
