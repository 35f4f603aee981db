using System.Net;
using DeliveryGrains.Deliveries;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Spectre.Console;

namespace DeliveryGrains.Client.Hosting;

public static class ClientHostingExtensions
{
    /// <summary>
    /// The client app's host: validated connection and identity options, an Orleans client on
    /// localhost clustering (or, with <c>DeliveryGrains:Storage=Postgres</c>, the cluster found through the database) (started on a command's first need, see <see cref="HostedClusterConnection"/>),
    /// quiet logging (raise it with <c>Logging__LogLevel__Default=Information</c>; it goes to stderr).
    /// </summary>
    public static IHostApplicationBuilder AddDeliveryClient(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OrleansConnectionOptions>()
            .BindConfiguration(OrleansConnectionOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<OrleansConnectionOptions>, OrleansConnectionOptionsValidator>();
        services.AddOptions<ClientIdentityOptions>().BindConfiguration(ClientIdentityOptions.Section);

        builder.UseOrleansClient(client =>
        {
            client.AddOutgoingGrainCallFilter<ApiKeyCallFilter>();
            client.Services.AddOptions<ClusterOptions>().Configure<IOptions<OrleansConnectionOptions>>((cluster, connection) =>
            {
                cluster.ClusterId = connection.Value.ClusterId;
                cluster.ServiceId = connection.Value.ServiceId;
            });
            // Durable mode: the silos' gateways are read from the membership table, as the silos write it.
            if (builder.Configuration["DeliveryGrains:Storage"] is { } storage
                && (string.Equals(storage, "Postgres", StringComparison.OrdinalIgnoreCase) || string.Equals(storage, "AdoNet", StringComparison.OrdinalIgnoreCase)))
            {
                var connectionString = builder.Configuration.GetConnectionString("Postgres");
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(string),
                        [$"DeliveryGrains:Storage is {storage} but ConnectionStrings:Postgres is empty; give the Npgsql connection string the silos use."]);
                }

                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
            }
            else
            {
                client.UseStaticClustering(gateways => gateways.Configure<IOptions<OrleansConnectionOptions>>((list, connection) =>
                    list.Gateways = [new IPEndPoint(IPAddress.Loopback, connection.Value.GatewayPort).ToGatewayUri()]));
            }
        });

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.None);
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);

        // The command owns Ctrl+C; the host only runs the Orleans client.
        services.AddSingleton<IHostLifetime, CommandLifetime>();
        services.AddSingleton<HostedClusterConnection>();
        services.AddSingleton<IClusterConnection>(sp => sp.GetRequiredService<HostedClusterConnection>());
        services.AddSingleton(new TargetDefaults(builder.Configuration[TargetDefaults.Key] is { Length: > 0 } country ? country : null));
        services.AddSingleton(_ => ClientIdentityOptions.ToCaller());
        return builder;
    }

    /// <summary>What the commands need, for a host that already holds a connected client (tests, the silo's demo mode).</summary>
    public static IServiceCollection AddDeliveryCommands(this IServiceCollection services, IGrainFactory grains, Caller caller, IAnsiConsole console)
    {
        services.AddSingleton(grains);
        services.AddSingleton(caller);
        services.AddSingleton(console);
        services.AddSingleton<IClusterConnection>(ConnectedCluster.Instance);
        services.AddSingleton(TargetDefaults.None);
        return services;
    }

    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Puts the configured key in the request context of every call; the silo checks it (see the silo's ClientCallFilter).</summary>
    private sealed class ApiKeyCallFilter(IOptions<ClientIdentityOptions> identity) : IOutgoingGrainCallFilter
    {
        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (!string.IsNullOrEmpty(identity.Value.ApiKey))
            {
                RequestContext.Set(CallerKey.RequestContextKey, identity.Value.ApiKey);
            }

            return context.Invoke();
        }
    }
}
