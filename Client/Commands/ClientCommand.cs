using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

/// <summary>Options every command takes.</summary>
public class ClientSettings : CommandSettings
{
    /// <summary>Read before parsing by <see cref="GatewayPortArgument"/>; declared here so that it is accepted and documented.</summary>
    [CommandOption("--gateway-port <PORT>")]
    [Description("The silo's gateway port (default: Orleans:GatewayPort, 30000).")]
    public int? GatewayPort { get; set; }

    [CommandOption("--json")]
    [Description("Write the result as one JSON document for scripts (the HTTP API's names; instants in ISO 8601 UTC, durations as d.hh:mm:ss).")]
    public bool Json { get; set; }
}

/// <summary>Options of a command that lists rows: also as CSV.</summary>
public interface IListSettings
{
    bool Json { get; }

    bool Csv { get; }
}

public static class ListSettingsChecks
{
    public static Spectre.Console.ValidationResult Check(IListSettings settings) =>
        settings is { Json: true, Csv: true }
            ? Spectre.Console.ValidationResult.Error("Give one of --json and --csv.")
            : Spectre.Console.ValidationResult.Success();
}

/// <summary>Options of a command about one delivery.</summary>
public class DeliverySettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The delivery id.")]
    public string Id { get; set; } = "";

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Id) || Id.Contains('/')
            ? Spectre.Console.ValidationResult.Error("Give a delivery id, as printed by `submit`.")
            : Spectre.Console.ValidationResult.Success();
}

/// <summary>Connects to the cluster, then runs the command; failures are reported by <see cref="CliErrors"/>.</summary>
public abstract class ClientCommand<TSettings>(IClusterConnection connection) : AsyncCommand<TSettings>
    where TSettings : ClientSettings
{
    public override sealed async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        await connection.ConnectAsync(cancellationToken);
        return await RunAsync(settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken);
}
