using DeliveryGrains.Logs;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using DeliveryGrains.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace DeliveryGrains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>The delivery engine's services and options; storage and clustering are chosen by the host.</summary>
    public static ISiloBuilder AddDeliveryEngine(this ISiloBuilder silo)
    {
        var services = silo.Services;
        services.AddOptions<DeliveryEngineOptions>().BindConfiguration(DeliveryEngineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<QuarantineOptions>().BindConfiguration(QuarantineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MtaOptions>().BindConfiguration(MtaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<DeliveryMetrics>();
        services.AddSingleton<Logs.DeliveryLayouts>();
        services.TryAddSingleton(sp => new SimulatorClock(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SimulatedMta>();
        services.AddHostedService(sp => sp.GetRequiredService<SimulatedMta>());
        services.AddSingleton<Mta.Scenarios.ScenarioSimulator>();
        services.AddHostedService(sp => sp.GetRequiredService<Mta.Scenarios.ScenarioSimulator>());
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        services.AddSingleton<SmtpRelay>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SmtpRelayLifecycle>();
        services.AddSingleton<LastSiloDeparture>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LastSiloDeparture>());
        services.AddSingleton<IOutgoingGrainCallFilter>(sp => sp.GetRequiredService<LastSiloDeparture>());
        services.AddSingleton<ProofRoad>();
        services.AddOptions<DkimOptions>().BindConfiguration(DkimOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DkimOptions>, DkimOptionsValidator>();
        services.AddSingleton<MessageSigner>();
        services.AddOptions<InboundOptions>().BindConfiguration(InboundOptions.Section).ValidateDataAnnotations()
            .Validate(o => System.Net.IPAddress.TryParse(o.Address, out _), "Mta:Inbound:Address must be an IP address such as 0.0.0.0 or 127.0.0.1.").ValidateOnStart();
        services.AddSingleton<DsnInbox>();
        services.AddSingleton<UnsubscribeMailbox>();
        services.AddSingleton<ArfInbox>();
        services.AddSingleton<DsnListener>();
        services.AddHostedService(sp => sp.GetRequiredService<DsnListener>());
        services.AddSingleton<IMessageRelay, MtaRouter>();
        services.AddOptions<Tracking.TrackingOptions>().BindConfiguration(Tracking.TrackingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Tracking.TrackingOptions>, Tracking.TrackingOptionsValidator>();
        services.TryAddSingleton<Tracking.ISiloPublicUrl, Tracking.NoSiloPublicUrl>();
        services.AddSingleton<Tracking.TrackingKeys>();
        services.AddSingleton<Tracking.DeliveryLinkTable>();
        services.AddSingleton<Tracking.TrackingRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<Tracking.TrackingRecorder>());
        return silo;
    }

    /// <summary>Memory mode: every store and the reminders in this process, nothing to install.</summary>
    public static ISiloBuilder UseInMemoryPersistence(this ISiloBuilder silo)
    {
        foreach (var name in new[] { StorageNames.Deliveries, StorageNames.Addresses })
        {
            silo.Services.AddGrainStorage(name, (sp, _) => ActivatorUtilities.CreateInstance<InProcessGrainStorage>(sp));
        }

        return silo.UseInMemoryReminderService();
    }

    /// <summary>
    /// Durable mode's grain state: the two stores in PostgreSQL through <see cref="PostgresGrainStorage"/>
    /// (group commit), with the project's schema migrated at the silo's first start stage. Clustering and
    /// reminders are the host's choice (the ADO.NET providers read their queries from the same schema).
    /// </summary>
    public static ISiloBuilder UsePostgresPersistence(this ISiloBuilder silo, string connectionString)
    {
        var services = silo.Services;
        services.AddOptions<PostgresStorageOptions>().Configure(o => o.ConnectionString = connectionString).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaParticipant>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Addresses.AddressCaseMigration>();
        services.AddSingleton<PostgresGrainStorage>();
        foreach (var name in new[] { StorageNames.Deliveries, StorageNames.Addresses })
        {
            services.AddGrainStorage(name, (sp, _) => sp.GetRequiredService<PostgresGrainStorage>());
        }

        return silo;
    }

    /// <summary>
    /// Durable mode's grain state through the stock <c>Microsoft.Orleans.Persistence.AdoNet</c> provider
    /// (one statement per write, the state in Orleans' binary serialization), on the table, functions and
    /// <c>OrleansQuery</c> rows of the project's migration <c>0004_adonet_grain_state.sql</c>, migrated at
    /// the silo's first start stage like the rest of the schema.
    /// </summary>
    public static ISiloBuilder UseAdoNetPersistence(this ISiloBuilder silo, string connectionString, string invariant)
    {
        var services = silo.Services;
        services.AddOptions<PostgresStorageOptions>().Configure(o => o.ConnectionString = connectionString).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaParticipant>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Addresses.AddressCaseMigration>();
        foreach (var name in new[] { StorageNames.Deliveries, StorageNames.Addresses })
        {
            silo.AddAdoNetGrainStorage(name, o =>
            {
                o.Invariant = invariant;
                o.ConnectionString = connectionString;
            });
            services.AddOptions<AdoNetGrainStorageOptions>(name)
                .Configure<Orleans.Serialization.Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        }

        return silo;
    }
}
