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
using DeliveryGrains.TestKit.Waiting;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// An in-process SMTP server (the SmtpServer package) that takes every message and keeps it, as the
/// bytes that came over the wire, by recipient address: what the relay sent is read from here.
/// Bound to a port the OS chooses. Also compiled into the browser tests (they link this file).
/// </summary>
public sealed class CapturingSmtpServer : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _running = Task.CompletedTask;

    public CapturingSmtpServer()
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("capture.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => _port.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(options, services);
    }

    /// <summary>The raw bytes of the last message taken for each recipient address.</summary>
    public ConcurrentDictionary<string, byte[]> RawTo { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int Port { get; private set; }

    public async Task StartAsync()
    {
        _running = _server.StartAsync(_stop.Token);
        Port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

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

    private sealed class Store(CapturingSmtpServer server) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var raw = buffer.ToArray();
            foreach (var to in transaction.To)
            {
                server.RawTo[to.AsAddress()] = raw;
            }

            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
