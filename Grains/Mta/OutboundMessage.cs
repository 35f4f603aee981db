using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Mta;

/// <summary>
/// One attempt of one message handed to an MTA. <see cref="MessageId"/> is stable per attempt, so an
/// MTA can drop a re-relay of the same attempt after a crash. <see cref="Partition"/> and
/// <see cref="RecipientIndex"/> say where the log sits, so feedback can go back in one batch per partition.
/// </summary>
public sealed record OutboundMessage(
    string DeliveryId,
    int Partition,
    int RecipientIndex,
    string ProfileId,
    string Address,
    Channel Channel,
    int Attempt,
    bool EmailFeedbackService,
    MtaSettings Mta,
    IReadOnlyDictionary<string, string>? Fields = null,
    DateTimeOffset? ValidUntil = null)
{
    public string MessageId => $"{DeliveryId}/{ProfileId}/{Attempt}";
}

/// <summary>Hands messages to the MTA a delivery names.</summary>
public interface IMessageRelay
{
    /// <summary>Accepts the message for sending; returns once the MTA has it, never waits for its outcome.</summary>
    ValueTask RelayAsync(OutboundMessage message);
}
