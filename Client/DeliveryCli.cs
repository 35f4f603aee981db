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
        if (Console.IsOutputRedirected)
        {
            // Piped or redirected: lines as long as they are (Spectre would cut them at 80 columns).
            console.Profile.Width = RedirectedWidth;
        }

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
            return await RunAppAsync(registrar, console, args, cancellationToken);
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

    /// <summary>The width output is laid out in when it is not a terminal: wide enough that no line is ever wrapped.</summary>
    public const int RedirectedWidth = 2000;

    /// <summary>
    /// Runs one command line: option values of the wrong kind are all told at once (exit code 2)
    /// before the command is even parsed; everything else as <see cref="CreateApp"/> says.
    /// </summary>
    public static async Task<int> RunAppAsync(ITypeRegistrar registrar, IAnsiConsole console, string[] args, CancellationToken cancellationToken = default)
    {
        var app = CreateApp(registrar, console);
        if (SettingsOf(args) is { } settings && OptionValues.Problems(settings, args) is { Count: > 0 } problems)
        {
            CliErrors.Line(console, $"Invalid options: {string.Join(" ", problems)} See '{ApplicationName} {args.First(a => !a.StartsWith('-'))} --help'.");
            return ExitCodes.InvalidInput;
        }

        return await app.RunAsync(args, cancellationToken);
    }

    /// <summary>"1.0.0 (Orleans 10.4.2, .NET 10.0.1)".</summary>
    public static string Version =>
        $"{InformationalVersion(typeof(DeliveryCli).Assembly)} (Orleans {InformationalVersion(typeof(IGrainFactory).Assembly)}, .NET {Environment.Version})";

    private static string InformationalVersion(System.Reflection.Assembly assembly)
    {
        var version = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "?";
        // "10.4.2+876ffe0", "10.4.2. Commit Hash: 876ffe0…": the version number alone.
        var end = 0;
        while (end < version.Length && (char.IsAsciiDigit(version[end]) || (version[end] == '.' && end + 1 < version.Length && char.IsAsciiDigit(version[end + 1]))))
        {
            end++;
        }

        return end == 0 ? version : version[..end];
    }

    /// <summary>The settings type of the command named on the command line, if any.</summary>
    private static Type? SettingsOf(string[] args)
    {
        var name = args.FirstOrDefault(a => !a.StartsWith('-'));
        if (name is null || !Commands.TryGetValue(name, out var command))
        {
            return null;
        }

        for (var type = command; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(AsyncCommand<>) || type.GetGenericTypeDefinition() == typeof(Command<>)))
            {
                return type.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>Each command's name and type, as <see cref="CreateApp"/> registers them.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type> Commands = new(StringComparer.Ordinal);

    private static ICommandConfigurator Add<TCommand>(IConfigurator config, string name)
        where TCommand : class, ICommand
    {
        Commands[name] = typeof(TCommand);
        return config.AddCommand<TCommand>(name);
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
            config.SetApplicationVersion(Version);
            config.ConfigureConsole(console);
            config.Settings.Culture = CultureInfo.InvariantCulture;
            config.SetExceptionHandler((ex, _) => CliErrors.Report(console, ex));

            Add<SubmitCommand>(config, "submit")
                .WithDescription("Create a delivery from a target file (.csv or .json) or a generated target; optionally prepare, confirm and watch it. Rules: docs/rules.md.")
                .WithExample("submit", "--name", "Spring", "--target", "customers.csv")
                .WithExample("submit", "--name", "Demo", "--generate", "2000", "--prepare", "--confirm", "--watch");
            Add<PrepareCommand>(config, "prepare")
                .WithDescription("Resolve the target: who gets a message, and who is left out and why (empty, invalid or duplicate address, quarantined, denylisted).");
            Add<PreviewCommand>(config, "preview")
                .WithDescription("Show the content as one recipient of the target gets it (the first, or --profile), sending nothing; an SMS shows its length in characters and segments (R14.4, R14.5).")
                .WithExample("preview", "3f2a…", "--profile", "p-42");
            Add<ProofCommand>(config, "proof")
                .WithDescription("Send a proof: the content, subject prefixed \"[Proof N]\", to the given addresses through the delivery's MTA; it never counts in KPIs, logs, quarantine or history (R14.4).")
                .WithExample("proof", "3f2a…", "--to", "ann@example.com", "--to", "bo@example.com");
            Add<ConfirmCommand>(config, "confirm")
                .WithDescription("Confirm the send of a prepared delivery (needs StartDeliveries).");
            Add<ExecutionsCommand>(config, "executions")
                .WithDescription("The runs of a recurring delivery (each one a delivery of its own), or its Day/Week/Month sums, and what runs next.");
            Add<PauseCommand>(config, "pause")
                .WithDescription("Pause a delivery: nothing more is relayed or retried until it is resumed; the validity period keeps running.");
            Add<ResumeCommand>(config, "resume")
                .WithDescription("Resume a paused delivery where it stopped; nothing is sent twice.");
            Add<StopCommand>(config, "stop")
                .WithDescription("Stop a delivery for good: nothing more is relayed or retried; messages not yet relayed are never sent.");
            Add<WatchCommand>(config, "watch")
                .WithDescription("Follow the Deployment block until the delivery finishes (or settles).");
            Add<ListCommand>(config, "list")
                .WithDescription("List deliveries, newest first, by status, channel or a part of the name, a page at a time.")
                .WithExample("list", "--status", "InProgress", "--search", "Friday");
            Add<ShowCommand>(config, "show")
                .WithDescription("Show a delivery and its Deployment block once.");
            Add<LogsCommand>(config, "logs")
                .WithDescription("List sending logs, a page at a time.");
            Add<ExclusionsCommand>(config, "exclusions")
                .WithDescription("List the recipients excluded at preparation.");
            Add<StatsCommand>(config, "stats")
                .WithDescription("Compute stats: recount every KPI from the sending logs, publish opens and clicks now, and say what changed and why.");
            Add<HistoryCommand>(config, "history")
                .WithDescription("The deliveries sent to a profile, with the status of each message.");
            Add<AddressCommand>(config, "address")
                .WithDescription("The quarantine status of an address: Valid, Erroneous (soft bounces counted), Quarantine or OnDenylist, and whether preparation leaves it out.");
            Add<ReleaseAddressCommand>(config, "release-address")
                .WithDescription("Release an address from quarantine or the denylist: Valid again, errors cleared (needs Administration).")
                .WithExample("release-address", "ann@example.test");
            Add<DkimRecordCommand>(config, "dkim-record")
                .WithDescription("Print the DNS TXT record to publish for the silo's DKIM key (Mta:Dkim), so receivers can check its signatures (R13.6). Reads the key file only.")
                .WithExample("dkim-record", "--key", "dkim.pem", "--selector", "news2026", "--domain", "example.com");
            Add<LoadCommand>(config, "load")
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
        catch (OptionsValidationException ex)
        {
            throw new InvalidInputException("Invalid configuration: " + string.Join(" ", ex.Failures.Select(ConfigurationMessages.Human)));
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidInputException("Invalid configuration: " + ConfigurationMessages.Human(ex.Message));
        }

        var country = services.GetRequiredService<TargetDefaults>().DefaultCountryCode;
        if (country is not null && !Addresses.PhoneNumbers.IsCountryCode(country))
        {
            throw new InvalidInputException($"Invalid configuration: {TargetDefaults.Key} is '{country}'; give a country calling code of 1 to 3 digits, e.g. 33.");
        }
    }
}
