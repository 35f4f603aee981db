using Orleans.Dashboard;
using System.Text.Json.Serialization;
using DeliveryGrains.Hosting;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DeliveryGrains.Silo.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>The Orleans silo: engine, storage, clustering and the dashboard.</summary>
    public static WebApplicationBuilder AddDeliverySilo(this WebApplicationBuilder builder)
    {
        var orleans = builder.Configuration.GetSection(OrleansHostingOptions.Section).Get<OrleansHostingOptions>() ?? new();
        var storage = builder.Configuration.GetValue($"{DeliveryEngineOptions.Section}:Storage", StorageMode.Memory);
        if (storage != StorageMode.Memory)
        {
            throw new OptionsValidationException(DeliveryEngineOptions.Section, typeof(StorageMode),
                [$"DeliveryGrains:Storage '{storage}' is not available in this release; use Memory."]);
        }

        builder.Services.AddOptions<OrleansHostingOptions>().BindConfiguration(OrleansHostingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort, serviceId: orleans.ServiceId, clusterId: orleans.ClusterId)
                .UseInMemoryPersistence()
                .AddDeliveryEngine()
                .AddDashboard();
            silo.Services.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(2));
        });
        return builder;
    }

    /// <summary>The HTTP API: API-key users, role policies, problem details, OpenAPI.</summary>
    public static WebApplicationBuilder AddDeliveryApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddProblemDetails();
        services.AddExceptionHandler<DomainExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddOpenApi();
        builder.AddMetricsExport();
        return builder;
    }

    public static WebApplication MapDeliveryApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapMetrics();
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        app.MapDeliveries();
        app.MapMtaFeedback();
        app.MapProfilesAndAddresses();
        return app;
    }
}
