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
        services.AddOptions<ClientIdentityOptions>()
            .Configure<IConfiguration>((options, configuration) => ReadIdentity(options, configuration.GetSection(ClientIdentityOptions.Section)))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.UseOrleansClient(client =>
        {
            client.Services.AddOptions<ClusterOptions>().Configure<IOptions<OrleansConnectionOptions>>((cluster, connection) =>
            {
                cluster.ClusterId = connection.Value.ClusterId;
                cluster.ServiceId = connection.Value.ServiceId;
            });
            // Durable mode: the silos' gateways are read from the membership table, as the silos write it.
            if (string.Equals(builder.Configuration["DeliveryGrains:Storage"], "Postgres", StringComparison.OrdinalIgnoreCase))
            {
                var connectionString = builder.Configuration.GetConnectionString("Postgres");
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(string),
                        ["DeliveryGrains:Storage is Postgres but ConnectionStrings:Postgres is empty; give the Npgsql connection string the silos use."]);
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
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ClientIdentityOptions>>().Value.ToCaller());
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

    private static void ReadIdentity(ClientIdentityOptions options, IConfigurationSection section)
    {
        options.User = section[nameof(ClientIdentityOptions.User)] ?? options.User;
        var roles = section.GetSection(nameof(ClientIdentityOptions.Roles));
        if (roles.Value is { } list)
        {
            options.Roles = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        else if (roles.GetChildren().Any())
        {
            options.Roles = roles.GetChildren().Select(r => r.Value ?? "").Where(r => r.Length > 0).ToList();
        }
    }

    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
