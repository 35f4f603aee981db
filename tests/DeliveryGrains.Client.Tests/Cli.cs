using System.Text.RegularExpressions;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Deliveries;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console.Testing;

namespace DeliveryGrains.Client.Tests;

/// <summary>What one run of the command line answered.</summary>
public sealed record CliResult(int ExitCode, string Output)
{
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The id <c>submit</c> prints on its first line.</summary>
    public string DeliveryId => Lines.Count > 0 && Regex.IsMatch(Lines[0], "^[0-9a-f]{32}$")
        ? Lines[0]
        : throw new Xunit.Sdk.XunitException($"No delivery id on the first line of:\n{Output}");

    /// <summary>The first number after <paramref name="label"/> on the first line that holds it (a table row's count).</summary>
    public long Row(string label)
    {
        var line = Lines.FirstOrDefault(l => l.Contains(label, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"No row '{label}' in:\n{Output}");
        var match = Regex.Match(line[(line.IndexOf(label, StringComparison.Ordinal) + label.Length)..], @"\d[\d,]*");
        return match.Success
            ? long.Parse(match.Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"No number on the row '{line}'.");
    }

    public override string ToString() => $"exit {ExitCode}:\n{Output}";
}

/// <summary>Runs the client's commands in process, against the test cluster's client and a <see cref="TestConsole"/>.</summary>
public sealed class Cli(ClusterFixture fixture)
{
    public static readonly Caller Operator = new("operator", new HashSet<string>(Roles.All));

    private static int _seed = Random.Shared.Next(1_000, 1_000_000);

    /// <summary>A seed no other test uses, so generated targets never meet another test's quarantine.</summary>
    public static int UniqueSeed() => Interlocked.Increment(ref _seed);

    public IGrainFactory Grains => fixture.Client;

    public Task<CliResult> RunAsync(params string[] args) => RunAsAsync(Operator, args);

    public Task<CliResult> RunAsAsync(Caller caller, params string[] args) => RunAsAsync(caller, interactive: false, args);

    public Task<CliResult> RunAsAsync(Caller caller, bool interactive, params string[] args) => RunAsAsync(caller, interactive, 250, args);

    /// <summary>Runs on a terminal <paramref name="width"/> columns wide.</summary>
    public Task<CliResult> RunAtWidthAsync(int width, params string[] args) => RunAsAsync(Operator, interactive: false, width, args);

    public async Task<CliResult> RunAsAsync(Caller caller, bool interactive, int width, params string[] args)
    {
        var console = new TestConsole().Width(width);
        if (interactive)
        {
            console.Interactive();
        }

        var services = new ServiceCollection().AddDeliveryCommands(fixture.Client, caller, console);
        var code = await DeliveryCli.RunAppAsync(new TypeRegistrar(services), console, args);
        return new CliResult(code, console.Output);
    }

    public Task<DeliveryView> ViewAsync(string id) => Grains.GetGrain<IDeliveryGrain>(id).GetViewAsync();

    /// <summary>Pause between polls of a bounded wait (<see cref="Eventually"/>): a command run costs more than a grain call.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
}
