using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Client.Hosting;

/// <summary>
/// Connects the client to the cluster before a command's first grain call. The client app
/// connects lazily, so <c>--help</c> and invalid options never need a silo; a host that already
/// holds a connected client (tests, the silo's demo mode) uses <see cref="ConnectedCluster"/>.
/// </summary>
public interface IClusterConnection
{
    Task ConnectAsync(CancellationToken cancellationToken);
}

/// <summary>A client that is connected already.</summary>
public sealed class ConnectedCluster : IClusterConnection
{
    public static readonly ConnectedCluster Instance = new();

    public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The silo could not be reached; the message says where and what to do.</summary>
public sealed class ClusterUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Starts the generic host that runs the Orleans client, once, and stops it at the end.</summary>
public sealed partial class HostedClusterConnection(
    IHost host, IOptions<OrleansConnectionOptions> options, IConfiguration configuration, ILogger<HostedClusterConnection> logger) : IClusterConnection
{
    private Task? _starting;

    public bool Started { get; private set; }

    public Task ConnectAsync(CancellationToken cancellationToken) => _starting ??= StartAsync(cancellationToken);

    public async Task StopAsync()
    {
        if (Started)
        {
            Started = false;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(timeout.Token);
        }
    }

    private string Unreachable() =>
        configuration["DeliveryGrains:Storage"] is { } storage
            && (string.Equals(storage, "Postgres", StringComparison.OrdinalIgnoreCase) || string.Equals(storage, "AdoNet", StringComparison.OrdinalIgnoreCase))
            ? $"Cannot reach a DeliveryGrains silo of cluster '{options.Value.ClusterId}' listed in the database of ConnectionStrings:Postgres: start one in durable mode (DeliveryGrains__Storage=Postgres)"
            : $"Cannot reach the DeliveryGrains silo at localhost:{options.Value.GatewayPort}: start it with `dotnet run --project Silo`";

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // The Orleans client keeps retrying a refused gateway for minutes; a command gives up sooner.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
            Started = true;
        }
        catch (Exception ex) when (ex is not OptionsValidationException && !cancellationToken.IsCancellationRequested)
        {
            // The user sees one line; the cause is in the log (Logging__LogLevel__Default=Warning).
            LogUnreachable(ex, options.Value.GatewayPort, options.Value.ConnectTimeout);
            throw new ClusterUnavailableException(Unreachable(), ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not connect to the gateway at localhost:{GatewayPort} within {ConnectTimeout}")]
    private partial void LogUnreachable(Exception ex, int gatewayPort, TimeSpan connectTimeout);
}
