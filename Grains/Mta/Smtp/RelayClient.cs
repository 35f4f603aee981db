using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// MailKit's client with what one relay connection needs beyond it: the DSN notifications asked for
/// the message in hand (RFC 3461, when the server offers DSN), its Message-ID as the envelope id, and
/// an RSET after a refusal so the next transaction starts clean.
/// </summary>
internal sealed class RelayClient : SmtpClient
{
    /// <summary>What the next transaction asks reports for: failures and delays always, successes with EFS.</summary>
    public DeliveryStatusNotification Notify { get; set; } = DeliveryStatusNotification.Failure | DeliveryStatusNotification.Delay;

    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) => Notify;

    protected override string? GetEnvelopeId(MimeMessage message) => message.MessageId;

    /// <summary>Resets the session after a refused transaction; false when the connection is no longer usable.</summary>
    public async Task<bool> TryResetAsync(CancellationToken cancellationToken)
    {
        if (!IsConnected)
        {
            return false;
        }

        try
        {
            var response = await SendCommandAsync("RSET", cancellationToken);
            return response.StatusCode == SmtpStatusCode.Ok;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
