using System.Diagnostics;
using DeliveryGrains.TestKit.Ports;
using Npgsql;

namespace DeliveryGrains.TestKit.Postgres;

/// <summary>
/// A throwaway PostgreSQL 15 for the durable-mode tests: initdb in a fresh folder under the temp
/// directory, pg_ctl on a <see cref="FreePort"/>, one database per test class (or cluster), stopped and deleted at
/// the end. Run as root, the server runs as the unprivileged <c>postgres</c> user (PostgreSQL refuses
/// root). Missing binaries fail the tests with the command that installs them.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private static readonly string[] BinaryFolders = ["/usr/lib/postgresql/15/bin"];

    private string _bin = "";
    private string _root = "";
    private string DataFolder => Path.Combine(_root, "data");

    public int Port { get; private set; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=10";

    /// <summary>A new, empty database; answers its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async Task InitializeAsync()
    {
        _bin = FindBinaries();
        var asRoot = Environment.UserName == "root";
        _root = Directory.CreateTempSubdirectory("dg-pg-").FullName;
        if (asRoot)
        {
            await RunAsync("chown", ["postgres", _root], asPostgres: false);
        }

        Port = FreePort.Next();
        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", DataFolder, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], asRoot);
        await StartAsync();
    }

    /// <summary>Starts the server (again) on its port; answers once it takes connections.</summary>
    public Task StartAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"),
        [
            "-D", DataFolder, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "30",
            "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c max_connections=200", "start",
        ], Environment.UserName == "root");

    /// <summary>Stops the server (fast: open sessions are ended), as an outage of the database would; <see cref="StartAsync"/> brings it back.</summary>
    public async Task StopAsync()
    {
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataFolder, "-m", "fast", "-w", "stop"], Environment.UserName == "root");
        NpgsqlConnection.ClearAllPools();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_root.Length == 0)
        {
            return;
        }

        if (File.Exists(Path.Combine(DataFolder, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataFolder, "-m", "fast", "-w", "stop"], Environment.UserName == "root");
        }

        Directory.Delete(_root, recursive: true);
    }

    private static string FindBinaries()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        // PostgreSQL 15 first; another major version from the distribution's "postgresql" package works too.
        var others = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin"))
            : [];
        foreach (var folder in BinaryFolders.Concat(others).Concat(path))
        {
            if (File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")))
            {
                return folder;
            }
        }

        throw new InvalidOperationException(
            "The durable-mode tests need the PostgreSQL 15 server binaries (initdb, pg_ctl) in /usr/lib/postgresql/15/bin or on PATH. " +
            "Install them with: apt-get install -y postgresql-15 (.ci/run does this).");
    }

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
