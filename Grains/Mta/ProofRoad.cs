using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Mta;

/// <summary>
/// R14.4: where a delivery's proofs go, by its own MTA. The SMTP relay sends each one to the smart
/// host on a connection of its own; the simulated MTA takes it and, like every simulated message,
/// sends it nowhere. Neither road reports back to a log, so no KPI, quarantine or history moves.
/// </summary>
public sealed partial class ProofRoad(SmtpRelay smtp, IOptions<SmtpOptions> smtpOptions, ILogger<ProofRoad> logger)
{
    /// <summary>The longest a proof's sending may take before it is given up.</summary>
    private static readonly TimeSpan SendWithin = TimeSpan.FromSeconds(60);

    /// <summary>
    /// R14.3: the links a preview shows: the recipient's mailto unsubscribe address (the message itself
    /// carries the signed one-click URL, made at relay) and no mirror-page link (one is signed per message sent).
    /// </summary>
    public MessageLinks LinksFor(string deliveryId, string profileId) =>
        smtpOptions.Value.IsConfigured
            ? new MessageLinks($"mailto:{MessageIdentity.Unsubscribe(deliveryId, profileId, smtpOptions.Value.BounceDomain!)}", "")
            : MessageLinks.None;

    /// <summary>Sends proof <paramref name="number"/> of <paramref name="message"/> to each address; returns the addresses refused, with why.</summary>
    public async Task<IReadOnlyDictionary<string, string>> SendAsync(OutboundMessage message, int number, IReadOnlyList<string> addresses)
    {
        var refused = new Dictionary<string, string>(StringComparer.Ordinal);
        if (message.Mta.Kind != MtaKind.Smtp)
        {
            LogSimulatedProof(message.DeliveryId, number, addresses.Count);
            return refused;
        }

        using var within = new CancellationTokenSource(SendWithin);
        foreach (var address in addresses)
        {
            if (await smtp.SendProofAsync(message, number, address, within.Token) is { } reason)
            {
                refused[address] = reason;
            }
        }

        return refused;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {DeliveryId}: proof {Number} taken by the simulated MTA for {Count} address(es)")]
    private partial void LogSimulatedProof(string deliveryId, int number, int count);
}
