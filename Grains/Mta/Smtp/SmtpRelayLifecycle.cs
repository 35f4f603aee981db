using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// Stops the SMTP relay at the very start of a silo's stop, while the partitions are still active: no
/// transaction starts any more and the replies already had are recorded, so a graceful stop (a rolling
/// update, a scale-in) sends nothing twice; what was still queued goes again from the partitions'
/// next activations (<see cref="Deliveries.IDeliveryPartitionGrain.ResumeHandedAsync"/>).
/// </summary>
public sealed class SmtpRelayLifecycle(SmtpRelay relay, IOptions<SiloMessagingOptions> messaging) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SmtpRelayLifecycle), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        // At most half the time a stop is given to deactivate grains, so the rest of the stop keeps its share.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(messaging.Value.ResponseTimeout / 2);
        await relay.StopSendingAsync(bounded.Token);
    }
}
