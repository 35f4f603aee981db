using System.Net.Sockets;
using DeliveryGrains.Silo.Hosting;
using DeliveryGrains.Silo.OperatorConsole;
using DeliveryGrains.TestKit.Ports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.TestKit.Hosting;

/// <summary>
/// The real silo host in this process, built with the same extension methods as Program.cs: Kestrel,
/// the Orleans silo and the API, and the operator console when asked. Kestrel takes a port of its own
/// choosing (port 0) unless the settings name one; Orleans needs its silo and gateway ports up front,
/// so they are <see cref="FreePort"/>s, and a start that finds one taken by another process meanwhile
/// is retried with new ones: a busy machine cannot fail a collection.
/// <para>
/// Compiled into each test project that references the Silo project (they link this file), so the
/// kit itself stays free of the web host and the engine.
/// </para>
/// </summary>
internal static class InProcessSilo
{
    private const int Attempts = 5;

    /// <summary>Starts a host on <paramref name="settings"/> (configuration keys, e.g. <c>Orleans:ClusterId</c>).</summary>
    public static async Task<StartedSilo> StartAsync(IReadOnlyDictionary<string, string?> settings, bool operatorConsole = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var gatewayPort = settings.TryGetValue("Orleans:GatewayPort", out var given) && given is not null
                ? int.Parse(given, System.Globalization.CultureInfo.InvariantCulture)
                : FreePort.Next();
            var app = Build(settings, gatewayPort, operatorConsole);
            try
            {
                await app.StartAsync();
                return new StartedSilo(app, ListeningAddress(app), gatewayPort);
            }
            catch (Exception ex) when (attempt < Attempts && IsPortTaken(ex))
            {
                await DisposeQuietlyAsync(app);
            }
        }
    }

    private static WebApplication Build(IReadOnlyDictionary<string, string?> settings, int gatewayPort, bool operatorConsole)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Orleans:SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        configuration["Orleans:GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddDeliverySilo().AddDeliveryApi();
        if (operatorConsole)
        {
            builder.AddOperatorConsole();
        }

        var app = builder.Build();
        app.MapDeliveryApi();
        if (operatorConsole)
        {
            app.MapOperatorConsole();
        }

        return app;
    }

    /// <summary>Where Kestrel listens, as a loopback address a test can call (a wildcard host is reached through 127.0.0.1).</summary>
    private static Uri ListeningAddress(WebApplication app)
    {
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return new Uri($"{uri.Scheme}://127.0.0.1:{uri.Port}");
    }

    /// <summary>A host whose start failed may fail to stop too; the next attempt starts a new one either way.</summary>
    private static async Task DisposeQuietlyAsync(WebApplication app)
    {
        try
        {
            await app.DisposeAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or OperationCanceledException or AggregateException)
        {
            // Nothing to keep from a host that never started.
        }
    }

    private static bool IsPortTaken(Exception ex) =>
        ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
        || (ex.InnerException is { } inner && IsPortTaken(inner))
        || (ex is AggregateException aggregate && aggregate.InnerExceptions.Any(IsPortTaken));
}

/// <summary>A started in-process silo host: the app (stop and dispose it), the address Kestrel answers on, and the Orleans gateway port.</summary>
internal sealed record StartedSilo(WebApplication App, Uri Address, int GatewayPort);
