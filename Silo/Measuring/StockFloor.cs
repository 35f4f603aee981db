using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DeliveryGrains.Measuring;

namespace DeliveryGrains.Silo.Measuring;

/// <summary>
/// <c>floor [--grains N]</c>: the stock activation floor as DESIGN measures it: a bare Orleans silo in
/// this process (localhost clustering, nothing stored, no engine services, no dashboard, no HTTP)
/// activating, calling once and deactivating N trivial grains with 1,024 calls in flight from its
/// in-process client. The product's silo measures its own floor for <c>load --floor</c>, with the
/// engine and the dashboard running beside the probe grains; this one is the yardstick without them,
/// and <c>load --stock-floor</c> takes its figure.
/// </summary>
public static class StockFloor
{
    public const string Verb = "floor";

    private const int PerMillion = 1_000_000;

    /// <summary>Null when the first argument is not <c>floor</c>; throws <see cref="ArgumentException"/> with one readable line for bad options.</summary>
    public static int? Parse(string[] args)
    {
        if (args.Length == 0 || args[0] != Verb)
        {
            return null;
        }

        var grains = PerMillion;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] != "--grains")
            {
                throw new ArgumentException($"floor takes only --grains N (1 to {ActivationFloor.MaxGrains}); '{args[i]}' is not one of its options.");
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"--grains needs a number from 1 to {ActivationFloor.MaxGrains}.");
            }

            var value = args[++i];
            grains = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= ActivationFloor.MaxGrains
                ? n
                : throw new ArgumentException($"--grains '{value}' is not a number from 1 to {ActivationFloor.MaxGrains}.");
        }

        return grains;
    }

    /// <summary>Starts the bare silo, measures, prints the floor and the option a load run takes, stops.</summary>
    public static async Task<int> RunAsync(int grains, TextWriter output)
    {
        // No settings files, no environment: nothing of the product's configuration reaches the bare silo.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo.UseLocalhostClustering(FreePort(), FreePort()));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            output.WriteLine($"Measuring the stock activation floor over {grains.ToString("N0", CultureInfo.InvariantCulture)} grains (a bare silo: no engine, no dashboard, no HTTP)…");
            var factory = host.Services.GetRequiredService<IGrainFactory>();
            var floor = await factory.GetGrain<IActivationFloorGrain>(Guid.NewGuid()).MeasureAsync(grains);
            var perMillion = floor.ScaledTo(PerMillion).TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Stock activation floor: {floor.Grains:N0} grains in {floor.Elapsed.TotalSeconds:0.00} s ({floor.PerSecond:N0}/s), {perMillion:0.00} s per 1,000,000."));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Hold a load run on this machine against it: load … --stock-floor {perMillion:0.00}"));
            return 0;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
