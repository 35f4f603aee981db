using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta.Smtp;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Mta;

/// <summary>Routes each message to the MTA its delivery names.</summary>
public sealed partial class MtaRouter(SimulatedMta simulator, Scenarios.ScenarioSimulator scenarios, SmtpRelay smtp, ILogger<MtaRouter> logger) : IMessageRelay
{
    public ValueTask RelayAsync(OutboundMessage message)
    {
        switch (message.Mta.Kind)
        {
            case MtaKind.Simulated when message.Mta.Scenario is not null:
                // R12.5: the scenario's domain takes it under its cap, or defers it.
                scenarios.Accept(message);
                break;
            case MtaKind.Simulated:
                return simulator.AcceptAsync(message);
            case MtaKind.External:
                // The real MTA reports back through POST /api/mta/feedback; nothing more to do here.
                LogHandedToExternal(message.MessageId);
                break;
            case MtaKind.Smtp:
                // R12: queued for its domain's connections; the transaction's answer comes back to the log.
                return smtp.AcceptAsync(message);
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message.Mta.Kind, "Unknown MTA kind.");
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "Message {MessageId} handed to the external MTA")]
    private partial void LogHandedToExternal(string messageId);
}
