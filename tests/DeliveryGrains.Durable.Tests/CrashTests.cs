using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

[Collection(DurableCollection.Name)]
public sealed class CrashTests(PostgresServer server, ITestOutputHelper output)
{
    private const int Recipients = 3000;

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R8.7")]
    [Trait("Rule", "R7.3")]
    public async Task A_delivery_finishes_with_exact_counts_when_one_of_two_silos_is_killed_while_it_relays()
    {
        var database = await server.CreateDatabaseAsync("crash");
        var clusterId = $"crash-{Guid.NewGuid():N}"[..16];
        await using var siloA = SiloProcess.Start(database, clusterId, "a");
        await using var siloB = SiloProcess.Start(database, clusterId, "b");
        await siloA.UntilServingAsync();
        await siloB.UntilServingAsync();
        await UntilActiveSilosAsync(database, clusterId, 2, siloA, siloB);

        using var admin = siloA.Admin();
        var body = new
        {
            name = "Crash",
            channel = "Email",
            emailFeedbackService = true,
            validityPeriod = "00:00:40",
            retryPeriod = "00:00:02",
            maxRetries = 5,
            generatedTarget = new { count = Recipients, seed = 7, domain = "example.test" },
            mta = new { kind = "Simulated", feedbackDelay = "00:00:00.200", seed = 7 },
        };
        var created = await admin.PostJsonAsync("/api/deliveries", body).ExpectAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var prepared = await admin.PostAsync($"/api/deliveries/{id}/prepare", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(Recipients, prepared.GetProperty("toDeliver").GetInt64());
        await admin.PostAsync($"/api/deliveries/{id}/confirm", null).ExpectAsync(HttpStatusCode.Accepted);

        // Kill silo B while the delivery relays and feedback comes in, at the latest once something was sent.
        await admin.UntilAsync(id, v => v.Kpi("sent") > 0, TimeSpan.FromSeconds(30));
        var killedAt = await admin.ViewAsync(id);
        siloB.Kill();
        var clock = Stopwatch.StartNew();

        var (finished, failures) = await UntilFinishedAsync(admin, id, siloA);
        var lostFeedback = siloA.Output.Split('\n').Count(l => l.Contains("could not deliver", StringComparison.Ordinal));
        output.WriteLine($"Killed silo B at sent {killedAt.Kpi("sent")}/{Recipients}; Finished {clock.Elapsed.TotalSeconds:F1} s later; " +
            $"{failures} view calls failed during failover; silo A dropped {lostFeedback} simulated feedback batches; kpis {finished.GetProperty("kpis")}");
        var kpis = await admin.PostAsync($"/api/deliveries/{id}/compute-stats", null).ExpectAsync(HttpStatusCode.OK);
        var recount = kpis.TryGetProperty("kpis", out var inner) ? inner : kpis;
        long Recounted(string name) => recount.GetProperty(name).GetInt64();

        Assert.Equal(Recipients, Recounted("toDeliver"));
        Assert.Equal(Recounted("toDeliver"), Recounted("sent"));
        Assert.Equal(0, Recounted("pending"));
        Assert.Equal(0, Recounted("awaitingRetry"));
        Assert.Equal(Recounted("sent"), Recounted("delivered") + Recounted("bouncesAndErrors"));
        foreach (var name in new[] { "toDeliver", "sent", "delivered", "bouncesAndErrors", "pending", "awaitingRetry" })
        {
            Assert.True(finished.Kpi(name) == Recounted(name), $"running {name} {finished.Kpi(name)} differs from the recount {Recounted(name)}: {finished.GetProperty("kpis")} vs {recount}");
        }

        var logs = 0;
        var expired = 0;
        string? after = null;
        do
        {
            var path = $"/api/deliveries/{id}/logs?limit=1000" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            var page = await admin.GetAsync(path).ExpectAsync(HttpStatusCode.OK);
            foreach (var log in page.GetProperty("items").EnumerateArray())
            {
                var status = log.GetProperty("status").GetString();
                Assert.True(status is "Sent" or "Failed", $"log without a final status: {log}");
                logs++;
                expired += log.TryGetProperty("failureReason", out var reason) && reason.ValueKind == JsonValueKind.String && reason.GetString() == "Expired" ? 1 : 0;
            }

            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (after is not null);

        output.WriteLine($"{logs} logs, {expired} failed as Expired (pending at the end of validity).");
        Assert.Equal(Recipients, logs);
    }

    /// <summary>
    /// Polls the view through silo A until Finished; until the membership declares B dead, calls that
    /// reach grains B held fail (500), so failures are tolerated until the deadline.
    /// </summary>
    private static async Task<(JsonElement View, int Failures)> UntilFinishedAsync(HttpClient admin, string id, SiloProcess silo)
    {
        var failures = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var last = "";
        do
        {
            try
            {
                using var response = await admin.GetAsync($"/api/deliveries/{id}");
                last = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var view = JsonDocument.Parse(last).RootElement.Clone();
                    if (view.Status() == "Finished")
                    {
                        return (view, failures);
                    }
                }
                else
                {
                    failures++;
                }
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
                failures++;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"Not Finished within 90 s of the crash; last answer: {last}. {silo.Output}");
        return (default, failures);
    }

    private static async Task UntilActiveSilosAsync(string connectionString, string clusterId, int count, params SiloProcess[] silos)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        long active;
        do
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            // SiloStatus.Active = 3.
            await using var command = new NpgsqlCommand("SELECT count(*) FROM cluster_member WHERE cluster_id = $1 AND status = 3", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
            active = (long)(await command.ExecuteScalarAsync())!;
            if (active == count)
            {
                return;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"{active} active silos instead of {count} within 60 s. {string.Join(" ", silos.Select(s => s.Output))}");
    }
}

/// <summary>
/// A real silo process (<c>dotnet DeliveryGrains.Silo.dll</c> from the test's build output) in durable
/// mode on a given database, advertising 127.0.0.1, with fast failure detection; killed when disposed.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private const int OutputLimit = 20_000;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _name;

    private SiloProcess(Process process, Uri address, string name) => (_process, Address, _name) = (process, address, name);

    public Uri Address { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return $"[silo {_name}] {_output}";
            }
        }
    }

    public static SiloProcess Start(string connectionString, string clusterId, string name)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "DeliveryGrains.Silo.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references Silo so its build output holds it.");
        var httpPort = PostgresServer.FreePort();
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
            ["Orleans__SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans__GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans__AdvertisedIPAddress"] = "127.0.0.1",
            ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
            ["Orleans__Membership__NumMissedProbesLimit"] = "2",
            ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
            ["Security__Users__0__Name"] = "admin",
            ["Security__Users__0__ApiKey"] = DurableHost.AdminKey,
            ["Security__Users__0__Roles__0"] = "PrepareDeliveries",
            ["Security__Users__0__Roles__1"] = "StartDeliveries",
            ["Security__Users__0__Roles__2"] = "Administration",
            ["Security__Users__0__Roles__3"] = "MtaFeedback",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the silo process.");
        var silo = new SiloProcess(process, new Uri($"http://127.0.0.1:{httpPort}"), name);
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

    public HttpClient Admin()
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", DurableHost.AdminKey);
        return client;
    }

    public async Task UntilServingAsync()
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
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

        Assert.Fail($"The silo did not serve /openapi/v1.json within 60 s. {Output}");
    }

    /// <summary>SIGKILL, no shutdown: the silo's activations, timers and unsaved work are lost.</summary>
    public void Kill()
    {
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
