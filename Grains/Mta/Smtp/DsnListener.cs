using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>The inbound SMTP listener for delivery status notifications (configuration section <c>Mta:Inbound</c>); off while <see cref="Port"/> is unset.</summary>
public sealed class InboundOptions
{
    public const string Section = "Mta:Inbound";

    /// <summary>The port to listen on; 0 lets the system choose one (see <see cref="DsnListener.Port"/>).</summary>
    [Range(0, 65535)]
    public int? Port { get; set; }

    /// <summary>The address to listen on.</summary>
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>
    /// The largest message taken, in bytes: advertised with SIZE (a sender that declares more is refused
    /// at MAIL FROM) and enforced while the data is read: past it the message is refused with 552 and
    /// the session closed, never read whole.
    /// </summary>
    [Range(1024, 100_000_000)]
    public int MaxMessageBytes { get; set; } = 10_000_000;

    /// <summary>The earlier name of <see cref="MaxMessageBytes"/>, still read when set.</summary>
    [Range(1024, 100_000_000)]
    public int? MaxMessageSize { get; set; }

    public int EffectiveMaxMessageBytes => MaxMessageSize ?? MaxMessageBytes;
}

/// <summary>
/// Receives delivery status notifications over SMTP (R12.4) with the SmtpServer package and hands
/// each to <see cref="DsnInbox"/> with its envelope recipients (the VERP address). A report applied
/// or seen before is answered 250; one that names no log or is no report is refused with 550 5.6.0 and
/// the reason (a report is sent with a null sender, so the refusal makes no further bounce); a fault
/// on our side is 451 4.3.0 so the sender tries again.
/// </summary>
public sealed partial class DsnListener(
    DsnInbox inbox, ArfInbox complaints, UnsubscribeMailbox unsubscribes, IOptions<InboundOptions> options, ILogger<DsnListener> logger) : IHostedService, IAsyncDisposable
{
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stop;
    private SmtpServer.SmtpServer? _server;
    private Task _running = Task.CompletedTask;

    /// <summary>The port it listens on once started; null when the listener is off.</summary>
    public int? Port { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Port is not { } port)
        {
            return;
        }

        var endpoint = new IPEndPoint(IPAddress.Parse(options.Value.Address), port);
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName("deliverygrains")
            .MaxMessageSize(options.Value.EffectiveMaxMessageBytes, MaxMessageSizeHandling.Strict)
            .Endpoint(e => e.Endpoint(endpoint))
            .Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => _port.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        _stop = new CancellationTokenSource();
        _server = new SmtpServer.SmtpServer(serverOptions, services);
        _running = _server.StartAsync(_stop.Token);
        Port = await Task.WhenAny(_port.Task, _running) == _port.Task
            ? await _port.Task
            : throw new InvalidOperationException($"The inbound SMTP listener could not start on {endpoint}.", _running.Exception);
        LogListening(Port.Value);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null || _stop is null)
        {
            return;
        }

        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<SmtpResponse> ReceiveAsync(IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var recipients = transaction.To.Select(t => t.AsAddress()).ToList();
        if (recipients.Select(MessageIdentity.FromUnsubscribeAddress).FirstOrDefault(l => l is not null) is { } unsubscribe)
        {
            // R13.4: what the message says does not matter, only which recipient's address it was sent to.
            try
            {
                var unsubscribed = await unsubscribes.ProcessAsync(unsubscribe);
                return unsubscribed.Outcome == DsnOutcome.Rejected
                    ? new SmtpResponse((SmtpReplyCode)550, $"5.1.1 {unsubscribed.Error}")
                    : SmtpResponse.Ok;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex);
                return new SmtpResponse((SmtpReplyCode)451, "4.3.0 The request could not be recorded now; try again later");
            }
        }

        MimeMessage report;
        try
        {
            using var stream = new MemoryStream(buffer.ToArray());
            report = await MimeMessage.LoadAsync(stream, cancellationToken);
        }
        catch (FormatException ex)
        {
            var rejected = inbox.Malformed($"Not a MIME message: {ex.Message}");
            return new SmtpResponse((SmtpReplyCode)550, $"5.6.0 {rejected.Error}");
        }

        try
        {
            // R13.5: an abuse report may come to any address of the bounce domain (fbl@…, abuse@…).
            var result = ArfInbox.IsArf(report) ? await complaints.ProcessAsync(report) : await inbox.ProcessAsync(report, recipients);
            return result.Outcome == DsnOutcome.Rejected
                ? new SmtpResponse((SmtpReplyCode)550, $"5.6.0 {result.Error}")
                : SmtpResponse.Ok;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(ex);
            return new SmtpResponse((SmtpReplyCode)451, "4.3.0 The report could not be recorded now; try again later");
        }
    }

    private sealed class Store(DsnListener listener) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
            listener.ReceiveAsync(transaction, buffer, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbound SMTP listener for delivery status notifications on port {Port}")]
    private partial void LogListening(int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound SMTP listener: a report could not be recorded; the sender is told to try again")]
    private partial void LogFailed(Exception ex);
}
