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

namespace DeliveryGrains.Tests.Smtp;

/// <summary>
/// An in-process SMTP server (the SmtpServer package) that answers each recipient by a script named
/// in its local part, "{script}-{anything}@domain":
/// <c>ok</c> 250; <c>r421</c> 421 at RCPT the first time, then 250; <c>never</c> 421 at RCPT every time; <c>grey</c> 451 4.7.1 greylisted the
/// first time, then 250; <c>drop</c> closes the connection after the message data the first time (no
/// reply to DATA), then 250; <c>r450</c> 450 4.2.1, <c>r452</c> 452 4.2.2, <c>r550</c> 550 5.1.1 at RCPT;
/// <c>r552</c> 552 5.2.2 and <c>r554</c> 554 5.7.1 after DATA. A throttled domain answers 421 at RCPT once
/// it has accepted <see cref="ThrottlePerWindow"/> messages in its current one-second window; that
/// window's clock is its own and moves one second on at each 421 it gives, so the throttle is met
/// whatever the machine's speed. Bound to a port the OS chooses.
/// </summary>
public sealed class ScriptedSmtpServer : IAsyncDisposable
{
    public const int ThrottlePerWindow = 100;

    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _firstTries = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _throttleLock = new();
    private readonly Dictionary<string, int> _acceptedInWindow = new(StringComparer.OrdinalIgnoreCase);
    private Task _running = Task.CompletedTask;

    public ScriptedSmtpServer(IEnumerable<string>? throttledDomains = null)
    {
        ThrottledDomains = new HashSet<string>(throttledDomains ?? [], StringComparer.OrdinalIgnoreCase);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("scripted.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => _port.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Filter(this));
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(options, services);
    }

    public IReadOnlySet<string> ThrottledDomains { get; }

    /// <summary>Messages answered 250 after DATA, by Message-ID.</summary>
    public ConcurrentDictionary<string, int> AcceptedByMessageId { get; } = new(StringComparer.Ordinal);

    /// <summary>The last message accepted for each recipient address.</summary>
    public ConcurrentDictionary<string, MimeMessage> LastMessageTo { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The envelope sender of the last message accepted for each recipient address.</summary>
    public ConcurrentDictionary<string, string> LastEnvelopeSenderTo { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int Throttled;

    public int Port { get; private set; }

    public async Task StartAsync()
    {
        _running = _server.StartAsync(_stop.Token);
        Port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
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

    private static string ScriptOf(IMailbox to)
    {
        var dash = to.User.IndexOf('-');
        return dash < 0 ? to.User : to.User[..dash];
    }

    private bool FirstTry(string step, IMailbox to) => _firstTries.AddOrUpdate($"{step}:{to.AsAddress()}", 1, (_, n) => n + 1) == 1;

    private static SmtpResponseException Reply(int code, string text, bool quit = false) =>
        new(new SmtpResponse((SmtpReplyCode)code, text), quit);

    private void AtRecipient(IMailbox to)
    {
        if (ThrottledDomains.Contains(to.Host))
        {
            lock (_throttleLock)
            {
                _acceptedInWindow.TryGetValue(to.Host, out var accepted);
                if (accepted >= ThrottlePerWindow)
                {
                    // The window's second is over once it refused: the next one starts empty.
                    _acceptedInWindow[to.Host] = 0;
                    Interlocked.Increment(ref Throttled);
                    throw Reply(421, "4.7.0 Too many messages, slow down", quit: true);
                }
            }
        }

        switch (ScriptOf(to))
        {
            case "never":
                throw Reply(421, "4.4.2 Connection dropped, try later", quit: true);
            case "r421" when FirstTry("rcpt", to):
                throw Reply(421, "4.3.2 Service shutting down", quit: true);
            case "grey" when FirstTry("rcpt", to):
                throw Reply(451, "4.7.1 Greylisted, please try again later");
            case "r450":
                throw Reply(450, "4.2.1 Mailbox busy");
            case "r452":
                throw Reply(452, "4.2.2 Mailbox full");
            case "r550":
                throw Reply(550, "5.1.1 User unknown");
        }
    }

    private SmtpResponse AtData(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer)
    {
        var to = transaction.To[0];
        switch (ScriptOf(to))
        {
            case "drop" when FirstTry("data", to):
                // No reply to DATA: the connection closes under the session.
                context.Pipe.Dispose();
                throw new IOException("Scripted drop after the message data.");
            case "r552":
                return new SmtpResponse((SmtpReplyCode)552, "5.2.2 Mailbox full");
            case "r554":
                return new SmtpResponse((SmtpReplyCode)554, "5.7.1 Message refused by policy");
        }

        using var stream = new MemoryStream(buffer.ToArray());
        var message = MimeMessage.Load(stream);
        AcceptedByMessageId.AddOrUpdate(message.MessageId ?? "", 1, (_, n) => n + 1);
        var address = to.AsAddress();
        LastMessageTo[address] = message;
        LastEnvelopeSenderTo[address] = transaction.From.AsAddress();
        if (ThrottledDomains.Contains(to.Host))
        {
            lock (_throttleLock)
            {
                _acceptedInWindow[to.Host] = _acceptedInWindow.GetValueOrDefault(to.Host) + 1;
            }
        }

        return SmtpResponse.Ok;
    }

    private sealed class Filter(ScriptedSmtpServer server) : MailboxFilter
    {
        public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            server.AtRecipient(to);
            return Task.FromResult(true);
        }
    }

    private sealed class Store(ScriptedSmtpServer server) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
            Task.FromResult(server.AtData(context, transaction, buffer));
    }
}
