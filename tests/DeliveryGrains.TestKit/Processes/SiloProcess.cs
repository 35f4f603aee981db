using System.Diagnostics;
using System.Net;
using System.Text;
using DeliveryGrains.TestKit.Http;
using DeliveryGrains.TestKit.Ports;

namespace DeliveryGrains.TestKit.Processes;

/// <summary>
/// A real silo process (<c>dotnet DeliveryGrains.Silo.dll</c> from the test's build output) in durable
/// mode on a given database, advertising 127.0.0.1, with fast failure detection; killed when disposed.
/// Its ports are <see cref="FreePort"/>s; its one user is <c>admin</c> (<see cref="AdminKey"/>, every role).
/// Its <c>/metrics</c> tell what ran on this silo alone (activations by grain type, messages relayed).
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    public const string AdminKey = "admin-key";

    private const int OutputLimit = 20_000;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, Uri address, string name, int siloPort) =>
        (_process, Address, Name, SiloPort) = (process, address, name, siloPort);

    public Uri Address { get; }

    public string Name { get; }

    /// <summary>The port in the silo's membership row and silo address.</summary>
    public int SiloPort { get; }

    public bool Killed { get; private set; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return $"[silo {Name}] {_output}";
            }
        }
    }

    /// <summary>Starts the silo; see <see cref="UntilServingAsync"/> for when it serves.</summary>
    /// <param name="settings">Configuration in environment form (<c>DeliveryGrains__PartitionSize</c>…), over the defaults.</param>
    public static SiloProcess Start(string connectionString, string clusterId, string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "DeliveryGrains.Silo.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references Silo so its build output holds it.");
        var httpPort = FreePort.Next();
        var siloPort = FreePort.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[] { dll, "--urls", $"http://127.0.0.1:{httpPort}" })
        {
            start.ArgumentList.Add(argument);
        }

        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["DeliveryGrains__Storage"] = "Postgres",
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__ServiceId"] = clusterId,
            ["Orleans__SiloPort"] = siloPort.ToString(),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(),
            ["Orleans__AdvertisedIPAddress"] = "127.0.0.1",
            // Grains spread over every silo by a stable hash of their id, whatever the silos' load:
            // a crash test's precondition (the killed silo held some of the delivery) by construction.
            ["Orleans__Placement"] = "Hash",
            ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
            ["Orleans__Membership__NumMissedProbesLimit"] = "2",
            ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in ApiUser.Settings([ApiUser.Administrator(AdminKey)], "__"))
        {
            environment[key] = value!;
        }

        foreach (var (key, value) in environment.Concat(settings ?? new Dictionary<string, string>()))
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the silo process.");
        var silo = new SiloProcess(process, new Uri($"http://127.0.0.1:{httpPort}"), name, siloPort);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < OutputLimit)
            {
                _output.AppendLine(line);
            }
        }
    }

    public HttpClient Admin() => ApiClients.Create(Address, AdminKey);

    public async Task UntilServingAsync()
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        do
        {
            Assert.False(_process.HasExited, $"The silo exited with {(_process.HasExited ? _process.ExitCode : 0)}. {Output}");
            try
            {
                using var response = await client.GetAsync("/openapi/v1.json");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"The silo did not serve /openapi/v1.json within 120 s. {Output}");
    }

    /// <summary>
    /// The sum of a counter from this silo's Prometheus scrape over the series whose labels contain
    /// <paramref name="label"/> (e.g. <c>grain_type="recipient-log"</c>); 0 when nothing was counted yet.
    /// </summary>
    public async Task<long> CounterAsync(string name, string label = "")
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        var scrape = await client.GetStringAsync("/metrics");
        double sum = 0;
        foreach (var line in scrape.Split('\n'))
        {
            var labels = line.IndexOf('{');
            var series = labels < 0 ? line.Split(' ')[0] : line[..labels];
            if ((series == name || series == name + "_total") && line.Contains(label, StringComparison.Ordinal))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return (long)sum;
    }

    /// <summary>
    /// SIGSTOP: the process keeps its sockets but answers nothing, so the other silos' probes time out
    /// (never refused at once, as a killed process's are) and failure detection takes its full course.
    /// </summary>
    public void Freeze()
    {
        Assert.Equal(0, SendSignal(_process.Id, 19));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// SIGTERM: the host shuts down gracefully (Orleans leaves the membership, activations deactivate
    /// and store their state); answers once the process exited, within the bound.
    /// </summary>
    public async Task StopGracefullyAsync(TimeSpan within)
    {
        Killed = true;
        Assert.Equal(0, SendSignal(_process.Id, 15));
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"Silo {Name} did not exit within {within.TotalSeconds:F0} s of SIGTERM. {Output}");
        }
    }

    /// <summary>SIGKILL, no shutdown: the silo's activations, timers, unsaved work and simulated MTA queue are lost.</summary>
    public void Kill()
    {
        Killed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }
}
