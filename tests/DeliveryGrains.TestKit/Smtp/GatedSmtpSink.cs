using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DeliveryGrains.TestKit.Smtp;

/// <summary>
/// An SMTP server (the SmtpServer package) on a loopback port the OS chooses that takes every message,
/// counting each by its Message-ID, but answers no DATA until <see cref="Open"/>: until then every
/// transaction a relay starts waits at the gate, and the relay's other messages wait in its queue. So a
/// test knows, by construction, that a relay holds messages at the moment it acts, and how many were in
/// flight (<see cref="AtGate"/>). Opened at once, it is a plain counting sink.
/// </summary>
public sealed class GatedSmtpSink : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _running = Task.CompletedTask;
    private readonly Func<string, bool> _deferOnce;
    private readonly ConcurrentDictionary<string, bool> _deferred = new(StringComparer.OrdinalIgnoreCase);
    private int _atGate;

    /// <param name="deferOnce">Recipients greylisted (451 4.7.1) at RCPT the first time they are offered (then taken as any other).</param>
    public GatedSmtpSink(Func<string, bool>? deferOnce = null)
    {
        _deferOnce = deferOnce ?? (_ => false);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("gated.test")
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

    /// <summary>Every message whose data arrived, by Message-ID (a message sent twice counts two).</summary>
    public ConcurrentDictionary<string, int> ReceivedByMessageId { get; } = new(StringComparer.Ordinal);

    /// <summary>The recipients of the messages received, each once.</summary>
    public ConcurrentDictionary<string, bool> Recipients { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Transactions whose data arrived and that wait at the closed gate for their answer.</summary>
    public int AtGate => Volatile.Read(ref _atGate);

    public async Task StartAsync()
    {
        _running = _server.StartAsync(_stop.Token);
        Port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Answers every transaction waiting, and every later one at once.</summary>
    public void Open() => _gate.TrySetResult();

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
        using var stream = new MemoryStream(buffer.ToArray());
        var message = await MimeMessage.LoadAsync(stream, cancellationToken);
        ReceivedByMessageId.AddOrUpdate(message.MessageId ?? "", 1, (_, n) => n + 1);
        foreach (var to in transaction.To)
        {
            Recipients[to.AsAddress()] = true;
        }

        Interlocked.Increment(ref _atGate);
        try
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _atGate);
        }

        return SmtpResponse.Ok;
    }

    private sealed class Filter(GatedSmtpSink sink) : MailboxFilter
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

    private sealed class Store(GatedSmtpSink sink) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
            sink.ReceiveAsync(transaction, buffer, cancellationToken);
    }
}
