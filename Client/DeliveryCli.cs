using System.Globalization;
using DeliveryGrains.Client.Commands;
using DeliveryGrains.Client.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client;

/// <summary>The command-line client: its commands, and the host that connects it to a silo.</summary>
public static class DeliveryCli
{
    public const string ApplicationName = "delivery";

    /// <summary>Runs the client app against the silo named by configuration.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(GatewayPortArgument.Find(args));
        builder.AddDeliveryClient();
        var console = AnsiConsole.Console;
        builder.Services.AddSingleton(console);

        IHost? host = null;
        var registrar = new TypeRegistrar(builder.Services, _ =>
        {
            host = builder.Build();
            ValidateOptions(host.Services);
            return host.Services;
        });

        try
        {
            return await CreateApp(registrar, console).RunAsync(args, cancellationToken);
        }
        finally
        {
            if (host is not null)
            {
                await host.Services.GetRequiredService<HostedClusterConnection>().StopAsync();
                if (host is IAsyncDisposable disposable)
                {
                    await disposable.DisposeAsync();
                }
            }
        }
    }

    /// <summary>
    /// The commands over whatever the registrar provides: an <see cref="IGrainFactory"/>, a
    /// <see cref="DeliveryGrains.Deliveries.Caller"/>, an <see cref="IAnsiConsole"/> and an
    /// <see cref="IClusterConnection"/> (see <see cref="ClientHostingExtensions.AddDeliveryCommands"/>).
    /// Errors are reported on <paramref name="console"/> as one red line and an exit code (<see cref="ExitCodes"/>).
    /// </summary>
    public static CommandApp CreateApp(ITypeRegistrar registrar, IAnsiConsole console)
    {
        var app = new CommandApp(registrar);
        app.Configure(config =>
        {
            config.SetApplicationName(ApplicationName);
            config.ConfigureConsole(console);
            config.Settings.Culture = CultureInfo.InvariantCulture;
            config.SetExceptionHandler((ex, _) => CliErrors.Report(console, ex));

            config.AddCommand<SubmitCommand>("submit")
                .WithDescription("Create a delivery from a target file or a generated target; optionally prepare, confirm and watch it.")
                .WithExample("submit", "--name", "Spring", "--target", "customers.csv")
                .WithExample("submit", "--name", "Demo", "--generate", "2000", "--prepare", "--confirm", "--watch");
            config.AddCommand<PrepareCommand>("prepare")
                .WithDescription("Resolve the target: sending logs to deliver and exclusions by reason (R2.1).");
            config.AddCommand<ConfirmCommand>("confirm")
                .WithDescription("Confirm the send of a prepared delivery (needs StartDeliveries).");
            config.AddCommand<ExecutionsCommand>("executions")
                .WithDescription("The runs of a recurring delivery, or its aggregation periods (R3.3, R3.4).");
            config.AddCommand<PauseCommand>("pause")
                .WithDescription("Pause a delivery: nothing more is relayed or retried until it is resumed (R2).");
            config.AddCommand<ResumeCommand>("resume")
                .WithDescription("Resume a paused delivery where it stopped (R2).");
            config.AddCommand<StopCommand>("stop")
                .WithDescription("Stop a delivery for good: nothing more is relayed or retried (R2).");
            config.AddCommand<WatchCommand>("watch")
                .WithDescription("Follow the Deployment block until the delivery finishes (or settles).");
            config.AddCommand<ShowCommand>("show")
                .WithDescription("Show a delivery and its Deployment block once.");
            config.AddCommand<LogsCommand>("logs")
                .WithDescription("List sending logs, a page at a time.");
            config.AddCommand<ExclusionsCommand>("exclusions")
                .WithDescription("List the recipients excluded at preparation.");
            config.AddCommand<StatsCommand>("stats")
                .WithDescription("Compute stats: recount every KPI from the logs and repair drift (R8.7).");
            config.AddCommand<HistoryCommand>("history")
                .WithDescription("The deliveries sent to a profile (R10.1).");
            config.AddCommand<AddressCommand>("address")
                .WithDescription("The quarantine status of an address (R9).");
            config.AddCommand<ReleaseAddressCommand>("release-address")
                .WithDescription("Release an address from quarantine or the denylist (needs Administration, R9.6).")
                .WithExample("release-address", "ann@example.test");
            config.AddCommand<LoadCommand>("load")
                .WithDescription("Load test: a generated delivery on the simulated MTA, timed from preparation until it settles.")
                .WithExample("load", "--recipients", "100000", "--report", "load.json");
        });
        return app;
    }

    private static void ValidateOptions(IServiceProvider services)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<OrleansConnectionOptions>>().Value;
            _ = services.GetRequiredService<IOptions<ClientIdentityOptions>>().Value;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            throw new InvalidInputException("Invalid configuration: " + ex.Message);
        }
    }
}
