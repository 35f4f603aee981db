using DeliveryGrains.Logs;
using DeliveryGrains.Tracking;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// R13.4: mail that reaches the inbound listener for an unsubscribe address
/// (<c>unsubscribe+{delivery}.{profile}@{bounce domain}</c>, the mailto of <c>List-Unsubscribe</c>)
/// does what the one-click POST does: the recipient's address goes OnDenylist with reason
/// Unsubscribed and the delivery counts it. An address naming no relayed message changes nothing
/// and is refused with the reason.
/// </summary>
public sealed partial class UnsubscribeMailbox(IGrainFactory grains, TimeProvider time, ILogger<UnsubscribeMailbox> logger)
{
    public async Task<DsnResult> ProcessAsync(LogIdentity log)
    {
        var outcome = await grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(log.DeliveryId, log.ProfileId)).UnsubscribeAsync(time.GetUtcNow());
        if (outcome == AnswerOutcome.NoMessage)
        {
            var why = $"Delivery '{log.DeliveryId}' has no relayed message for profile '{log.ProfileId}': nothing to unsubscribe from.";
            LogRefused(log.DeliveryId);
            return DsnResult.Reject(why);
        }

        return new DsnResult(outcome == AnswerOutcome.Recorded ? DsnOutcome.Accepted : DsnOutcome.Duplicate);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Unsubscribe mail for delivery {DeliveryId} names no relayed message; refused")]
    private partial void LogRefused(string deliveryId);
}
