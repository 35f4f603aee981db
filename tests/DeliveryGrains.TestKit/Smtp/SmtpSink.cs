using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using DeliveryGrains.TestKit.Waiting;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DeliveryGrains.TestKit.Smtp;

/// <summary>
/// An SMTP server (the SmtpServer package) on a loopback port the OS chooses that takes every message:
/// it keeps the last one sent to each recipient as the bytes that came over the wire (what a relay sent
/// is read from here) and counts each by its Message-ID. Made <c>gated</c>, it answers no DATA until
/// <see cref="Open"/>: every transaction a relay starts waits at the gate and the relay's other messages
/// wait in its queue, so a test knows, by construction, that a relay holds messages when it acts.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<string, bool> _deferOnce;
    private readonly ConcurrentDictionary<string, bool> _deferred = new(StringComparer.OrdinalIgnoreCase);
    private Task _running = Task.CompletedTask;

    /// <param name="gated">Answer no DATA until <see cref="Open"/>.</param>
    /// <param name="deferOnce">Recipients greylisted (451 4.7.1) at RCPT the first time they are offered (then taken as any other).</param>
    public SmtpSink(bool gated = false, Func<string, bool>? deferOnce = null)
    {
        if (!gated)
        {
            Open();
        }

        _deferOnce = deferOnce ?? (_ => false);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("sink.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => _port.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        services.Add(new Filter(this));
        _server = new SmtpServer.SmtpServer(options, services);
    }

    public int Port { get; private set; }

    /// <summary>The raw bytes of the last message taken for each recipient address.</summary>
    public ConcurrentDictionary<string, byte[]> RawTo { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every message whose data arrived, by Message-ID (a message sent twice counts two).</summary>
    public ConcurrentDictionary<string, int> ReceivedByMessageId { get; } = new(StringComparer.Ordinal);

    public async Task StartAsync()
    {
        _running = _server.StartAsync(_stop.Token);
        Port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Answers every transaction waiting at the gate, and every later one at once.</summary>
    public void Open() => _gate.TrySetResult();

    /// <summary>The last message sent to <paramref name="address"/>, waited for (10 s unless told).</summary>
    public async Task<(MimeMessage Message, byte[] Raw)> MessageToAsync(string address, TimeSpan? within = null)
    {
        var raw = await Eventually.Until(() => Task.FromResult(RawTo.GetValueOrDefault(address)), r => r is not null,
            $"a message to {address}", within);
        using var stream = new MemoryStream(raw!);
        return (await MimeMessage.LoadAsync(stream), raw!);
    }

    public async ValueTask DisposeAsync()
    {
        Open();
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task<SmtpResponse> ReceiveAsync(IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var raw = buffer.ToArray();
        foreach (var to in transaction.To)
        {
            RawTo[to.AsAddress()] = raw;
        }

        using (var stream = new MemoryStream(raw))
        {
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            ReceivedByMessageId.AddOrUpdate(message.MessageId ?? "", 1, (_, n) => n + 1);
        }

        await _gate.Task.WaitAsync(cancellationToken);
        return SmtpResponse.Ok;
    }

    private sealed class Filter(SmtpSink sink) : MailboxFilter
    {
        public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            var address = to.AsAddress();
            if (sink._deferOnce(address) && sink._deferred.TryAdd(address, true))
            {
                throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)451, "4.7.1 Greylisted, try again later"));
            }

            return Task.FromResult(true);
        }
    }

    private sealed class Store(SmtpSink sink) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
            sink.ReceiveAsync(transaction, buffer, cancellationToken);
    }
}
