using DeliveryGrains.Logs;
using DeliveryGrains.Mta;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

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
        services.AddSingleton<SimulatedMta>();
        services.AddHostedService(sp => sp.GetRequiredService<SimulatedMta>());
        services.AddSingleton<IMessageRelay, MtaRouter>();
        return silo;
    }

    /// <summary>Memory mode: every store and the reminders in this process, nothing to install.</summary>
    public static ISiloBuilder UseInMemoryPersistence(this ISiloBuilder silo) => silo
        .AddMemoryGrainStorage(StorageNames.Deliveries)
        .AddMemoryGrainStorage(StorageNames.Logs)
        .AddMemoryGrainStorage(StorageNames.Addresses)
        .UseInMemoryReminderService();
}
