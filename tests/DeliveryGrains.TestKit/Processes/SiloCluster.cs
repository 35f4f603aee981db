using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DeliveryGrains.TestKit.Http;
using DeliveryGrains.TestKit.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace DeliveryGrains.TestKit.Processes;

/// <summary>
/// The crash scenario the durable tests share: several silo processes on one fresh database, a
/// delivery across them, one silo SIGKILLed at a chosen moment, then the survivors must finish it
/// with counts as exact as if nothing had happened. Calls go through the first silo still running.
/// </summary>
public sealed class SiloCluster : IAsyncDisposable
{
    private const int Dead = 6; // SiloStatus.Dead in cluster_member.status
    private const int Active = 3;

    // Replaced whole when a silo is (a copy per change), so readers on other tasks always see a consistent list.
    private volatile List<SiloProcess> _silos;
    private readonly ITestOutputHelper _output;
    private readonly string _clusterId;
    private readonly IReadOnlyDictionary<string, string>? _settings;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SiloProcess, HttpClient> _clients = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<SiloProcess> _replaced = []; // every process started in a place, kept for output and disposal
    private readonly Stopwatch _sinceKill = new();
    private int _generation;

    private SiloCluster(string connectionString, string clusterId, List<SiloProcess> silos, ITestOutputHelper output, IReadOnlyDictionary<string, string>? settings) =>
        (ConnectionString, _clusterId, _silos, _output, _settings) = (connectionString, clusterId, silos, output, settings);

    public string ConnectionString { get; }

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>An admin client of the first silo not killed.</summary>
    public HttpClient Admin
    {
        get
        {
            var silo = _silos.First(s => !s.Killed);
            return _clients.GetOrAdd(silo, s => s.Admin());
        }
    }

    public string Output => string.Join(Environment.NewLine, _replaced.Concat(_silos).Distinct().Select(s => s.Output));

    /// <param name="settings">Silo configuration in environment form, e.g. a small <c>DeliveryGrains__PartitionSize</c> so partitions spread too.</param>
    public static async Task<SiloCluster> StartAsync(
        PostgresServer server, string name, int silos, ITestOutputHelper output, IReadOnlyDictionary<string, string>? settings = null)
    {
        var database = await server.CreateDatabaseAsync(name);
        var clusterId = $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 9, 40)];
        var processes = new List<SiloProcess>();
        var cluster = new SiloCluster(database, clusterId, processes, output, settings);
        try
        {
            // One at a time: a silo joins once the ones before it serve, so on a loaded machine no
            // joining silo fails its connectivity check against a silo still starting.
            for (var i = 0; i < silos; i++)
            {
                var silo = SiloProcess.Start(database, clusterId, ((char)('a' + i)).ToString(), settings);
                processes.Add(silo);
                await silo.UntilServingAsync();
                await cluster.UntilMembersAsync(Active, i + 1, TimeSpan.FromSeconds(120));
            }

            await cluster.UntilMembersAsync(Active, silos, TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Takes one silo down, SIGKILLed or stopped gracefully (SIGTERM), waits until the membership
    /// declares it dead, then starts a new silo process in its place and waits until it serves and
    /// every silo is active again: the cluster has its full size when this returns, by construction.
    /// </summary>
    public async Task<SiloProcess> ReplaceAsync(SiloProcess silo, bool graceful, TimeSpan within)
    {
        if (graceful)
        {
            _sinceKill.Restart();
            await silo.StopGracefullyAsync(within);
        }
        else
        {
            Kill(silo);
        }

        // The new process starts once the old one is declared dead (a joining silo checks its
        // connectivity to every active member), and joins the list, taking calls, only once it
        // serves and every silo is active.
        await UntilDeclaredDeadAsync(silo, within);
        var generation = Interlocked.Increment(ref _generation);
        var next = SiloProcess.Start(ConnectionString, _clusterId, $"{silo.Name[..1]}{generation}", _settings);
        _replaced.Enqueue(next);
        await next.UntilServingAsync();
        await UntilMembersAsync(Active, _silos.Count, within);
        _silos = _silos.Select(s => s == silo ? next : s).ToList();
        return next;
    }

    /// <summary>Creates, prepares and confirms a delivery; answers its id.</summary>
    public async Task<string> StartDeliveryAsync(object body, int toDeliver)
    {
        var id = await Admin.CreateAsync(body);
        var prepared = await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(toDeliver, prepared.GetProperty("toDeliver").GetInt64());
        await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);
        return id;
    }

    /// <summary>
    /// Posts MTA feedback through the first silo still running until every event is answered
    /// <c>accepted</c> or <c>duplicate</c>, within a bound. A 202 can still reject single events whose log
    /// could not be reached after the silo's own retries (a failover moves the dead silo's grains):
    /// those, and a whole batch answered 5xx or timed out, are posted again (their event ids make a
    /// repeat harmless), so every event is applied once the call returns, by construction. Answers how
    /// many posts were refused whole (their answer lost: some events may have been applied, and are
    /// answered as duplicates when posted again), how many events were rejected and posted again, and
    /// how many were answered accepted and duplicate.
    /// </summary>
    public async Task<FeedbackPosted> PostFeedbackUntilAppliedAsync(IReadOnlyList<object> events, TimeSpan within)
    {
        var (refused, rejected, accepted, duplicates) = (0, 0, 0, 0);
        var outstanding = events.ToList();
        var deadline = DateTime.UtcNow + within;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var last = "";
        do
        {
            try
            {
                using var response = await Admin.PostJsonAsync("/api/mta/feedback", outstanding);
                last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var answer = JsonDocument.Parse(last[(last.IndexOf(':') + 2)..]).RootElement;
                    var again = new List<object>();
                    foreach (var rejection in answer.GetProperty("rejected").EnumerateArray())
                    {
                        var error = rejection.GetProperty("error").GetString()!;
                        Assert.True(error.Contains("could not be stored now", StringComparison.Ordinal), $"an event was rejected for good: {rejection}");
                        again.Add(outstanding[rejection.GetProperty("index").GetInt32()]);
                    }

                    var (taken, repeated) = (answer.GetProperty("accepted").GetInt32(), answer.GetProperty("duplicates").GetInt32());
                    Assert.Equal(outstanding.Count, taken + repeated + again.Count);
                    (rejected, accepted, duplicates) = (rejected + again.Count, accepted + taken, duplicates + repeated);
                    outstanding = again;
                    if (outstanding.Count == 0)
                    {
                        return new FeedbackPosted(refused, rejected, accepted, duplicates);
                    }
                }
                else
                {
                    Assert.True((int)response.StatusCode >= 500, $"feedback refused for good: {last}");
                    refused++;
                }
            }
            catch (Exception ex) when (ex is TaskCanceledException or HttpRequestException)
            {
                // Timed out, or the silo answering went down during the call (chaos rounds).
                last = ex.Message;
                refused++;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"{outstanding.Count} feedback events not applied within {within.TotalSeconds:F0} s; last answer {last}. {Output}");
        return default!;
    }

    /// <summary>Activations of a grain type (as Orleans' meter names it, e.g. <c>recipient-log</c>) each silo created so far.</summary>
    public async Task<IReadOnlyDictionary<SiloProcess, long>> ActivationsAsync(string grainType)
    {
        var counts = new Dictionary<SiloProcess, long>();
        foreach (var silo in _silos.Where(s => !s.Killed))
        {
            counts[silo] = await silo.CounterAsync("orleans_catalog_activation_created", $"grain_type=\"{grainType}\"");
        }

        return counts;
    }

    /// <summary>The silo that activated the delivery grain (there is one delivery per cluster here).</summary>
    public async Task<SiloProcess> DeliveryHostAsync()
    {
        var hosts = (await ActivationsAsync("delivery")).Where(c => c.Value > 0).Select(c => c.Key).ToList();
        Assert.True(hosts.Count == 1, $"The delivery grain was activated on {hosts.Count} silos before the crash; expected one.");
        return hosts[0];
    }

    /// <summary>SIGKILLs one silo; the clock of <see cref="SinceKill"/> starts.</summary>
    public void Kill(SiloProcess silo)
    {
        silo.Kill();
        _sinceKill.Restart();
    }

    public TimeSpan SinceKill => _sinceKill.Elapsed;

    /// <summary>Until the survivors' membership declares the killed silo dead; answers how long that took after the kill.</summary>
    public async Task<TimeSpan> UntilDeclaredDeadAsync(SiloProcess silo, TimeSpan? within = null)
    {
        var bound = within ?? TimeSpan.FromSeconds(60);
        var deadline = DateTime.UtcNow + bound;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM cluster_member WHERE cluster_id = $1 AND port = $2 AND status = $3", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = silo.SiloPort });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Dead });
            if ((long)(await command.ExecuteScalarAsync())! == 1)
            {
                return SinceKill;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"Silo {silo.Name} was not declared dead within {bound.TotalSeconds:F0} s of the kill. {Output}");
        return default;
    }

    /// <summary>When the earliest reminder of that name is due, if any is registered.</summary>
    public async Task<DateTimeOffset?> FirstReminderDueAsync(string reminderName)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT min(start_time) FROM reminder WHERE reminder_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reminderName });
        return await command.ExecuteScalarAsync() is DateTime due ? new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc)) : null;
    }

    /// <summary>
    /// Polls the view through a survivor until Finished. Until the membership declares the killed silo
    /// dead, calls that reach grains it held fail (500), so failures are tolerated until the bound.
    /// </summary>
    public async Task<(JsonElement View, int Failures)> UntilFinishedAsync(string id, TimeSpan within)
    {
        var failures = 0;
        var deadline = DateTime.UtcNow + within;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var last = "";
        do
        {
            try
            {
                using var response = await Admin.GetAsync($"/api/deliveries/{id}");
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

        Assert.Fail($"Not Finished within {within.TotalSeconds:F0} s; last answer: {last}. {Output}");
        return (default, failures);
    }

    /// <summary>
    /// What every crash must leave: the running KPIs equal Compute stats' recount (R8.7), every
    /// message sent once and settled, every log final. Answers the logs for the test's own checks.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> AssertExactAsync(string id, JsonElement finished, int toDeliver)
    {
        var answer = await Admin.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        var recount = answer.TryGetProperty("kpis", out var inner) ? inner : answer;
        long Recounted(string name) => recount.GetProperty(name).GetInt64();

        Assert.Equal(toDeliver, Recounted("toDeliver"));
        Assert.Equal(Recounted("toDeliver"), Recounted("sent"));
        Assert.Equal(0, Recounted("pending"));
        Assert.Equal(0, Recounted("awaitingRetry"));
        Assert.Equal(Recounted("sent"), Recounted("delivered") + Recounted("bouncesAndErrors"));
        foreach (var name in new[] { "toDeliver", "sent", "delivered", "bouncesAndErrors", "pending", "awaitingRetry" })
        {
            Assert.True(finished.Kpi(name) == Recounted(name),
                $"running {name} {finished.Kpi(name)} differs from the recount {Recounted(name)}: {finished.GetProperty("kpis")} vs {recount}");
        }

        var logs = await LogsAsync(id);
        foreach (var log in logs)
        {
            Assert.True(log.GetProperty("status").GetString() is "Sent" or "Failed", $"log without a final status: {log}");
        }

        Assert.Equal(toDeliver, logs.Count);
        Assert.Equal(toDeliver, logs.Select(l => l.GetProperty("profileId").GetString()).Distinct().Count());
        _output.WriteLine($"{logs.Count} logs, {logs.Count(l => Reason(l) == "Expired")} failed as Expired; kpis {finished.GetProperty("kpis")}");
        return logs;
    }

    /// <summary>Every sending log of the delivery, page by page.</summary>
    public async Task<IReadOnlyList<JsonElement>> LogsAsync(string id)
    {
        var logs = new List<JsonElement>();
        string? after = null;
        do
        {
            var path = $"/api/deliveries/{id}/logs?limit=1000" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            var page = await Admin.GetAsync(path).ExpectAsync(HttpStatusCode.OK);
            logs.AddRange(page.GetProperty("items").EnumerateArray());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (after is not null);

        return logs;
    }

    public static string? Reason(JsonElement log) =>
        log.TryGetProperty("failureReason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;

    private async Task UntilMembersAsync(int status, int count, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        long found;
        do
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM cluster_member WHERE cluster_id = $1 AND status = $2", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = status });
            found = (long)(await command.ExecuteScalarAsync())!;
            if (found == count)
            {
                return;
            }
        }
        while (DateTime.UtcNow < deadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"{found} silos with status {status} instead of {count} within {within.TotalSeconds:F0} s. {Output}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        foreach (var silo in _replaced.Concat(_silos).Distinct())
        {
            await silo.DisposeAsync();
        }
    }
}

/// <summary>What posting a feedback batch until every event was applied took.</summary>
public sealed record FeedbackPosted(int Refused, int Rejected, int Accepted, int Duplicates);
