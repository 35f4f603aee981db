using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Channel = System.Threading.Channels.Channel;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>
/// The SMTP road (R12): messages handed over by their logs wait in one queue per destination domain;
/// each domain has a small pool of connections to the smart host (one transaction per recipient,
/// pipelined where the server offers it) and its own <see cref="AdaptiveRate"/>. Every transaction's
/// final reply goes through <see cref="SmtpReplyTable"/>: a relay or a refusal is posted to the log
/// (in batches per partition, <see cref="IDeliveryPartitionGrain.RecordSmtpRepliesAsync"/>); a deferral lowers the domain's rate and
/// puts the same message (same Message-ID) back in the queue after a growing delay. A message whose
/// validity period ends while it waits is dropped here and stays ToDeliver (R12.3). Queued messages
/// live in this process, as in a real MTA's queue.
/// </summary>
public sealed partial class SmtpRelay : IAsyncDisposable
{
    /// <summary>A paused delivery's queued messages look again this often.</summary>
    private static readonly TimeSpan PauseRecheck = TimeSpan.FromSeconds(1);

    /// <summary>How long a delivery partition's relay state is trusted before it is read again.</summary>
    private static readonly TimeSpan RelayStateTtl = TimeSpan.FromSeconds(1);

    /// <summary>Reply batches posted at once; more waiting replies gather into the next batches.</summary>
    private const int ReplyBatchesInFlight = 32;

    /// <summary>Replies taken from the queue per round of batches.</summary>
    private const int MaxRepliesPerDrain = 8_192;

    private const int MaxReplyTries = 10;

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly SmtpOptions _options;
    private readonly ILogger<SmtpRelay> _logger;
    private readonly DeliveryMetrics _metrics;
    private readonly Lazy<SmtpMessageFactory> _factory;
    private readonly ConcurrentDictionary<string, DomainLane> _lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (RelayState State, DateTimeOffset ReadAt)> _relayStates = new(StringComparer.Ordinal);
    private readonly Channel<PendingReply> _replies = Channel.CreateUnbounded<PendingReply>(new UnboundedChannelOptions { SingleWriter = false });
    /// <summary>Per delivery, the domains whose figures changed since the last report to its <see cref="IDeliveryDomainsGrain"/>.</summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _touched = new(StringComparer.Ordinal);
    /// <summary>Not disposed: a batch still out when the relay stops releases its slot later (it holds no wait handle).</summary>
    private readonly SemaphoreSlim _replySlots = new(ReplyBatchesInFlight);
    private readonly string _relayId = $"smtp-{Environment.MachineName}-{Guid.NewGuid():N}";
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled first when the silo stops: no new transaction starts, while the replies already had are still recorded.</summary>
    private readonly CancellationTokenSource _sending = new();
    private Task _poster = Task.CompletedTask;
    private readonly List<Task> _running = [];
    private int _started;

    private readonly Tracking.TrackingKeys _tracking;
    private readonly MessageSigner _dkim;

    public SmtpRelay(
        IGrainFactory grains, TimeProvider time, IOptions<SmtpOptions> options, Tracking.TrackingKeys tracking, MessageSigner dkim,
        DeliveryMetrics metrics, ILogger<SmtpRelay> logger)
    {
        _metrics = metrics;
        _grains = grains;
        _tracking = tracking;
        _dkim = dkim;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _factory = new Lazy<SmtpMessageFactory>(() => SmtpMessageFactory.From(_options));
    }

    public bool IsConfigured => _options.IsConfigured;

    /// <summary>What each destination domain's lane has done since the silo started, and its rate now.</summary>
    public IReadOnlyList<SmtpDomainStatus> Domains() =>
        [.. _lanes.Values.Select(l => l.Status()).OrderBy(s => s.Domain, StringComparer.Ordinal)];

    /// <summary>Deferrals met by the messages of one delivery, per destination domain.</summary>
    public IReadOnlyDictionary<string, long> DeferralsOf(string deliveryId) =>
        _lanes.Values.Select(l => (l.Domain, Count: l.DeferralsOf(deliveryId))).Where(x => x.Count > 0).ToDictionary(x => x.Domain, x => x.Count);

    /// <summary>The current rate cap of a destination domain, or null when nothing was sent to it.</summary>
    public int? RateCapOf(string domain) => _lanes.TryGetValue(domain, out var lane) ? lane.Rate.PerMinute : null;

    /// <summary>
    /// Takes one attempt of one message into its domain's queue, at once while the queue has room
    /// (<see cref="SmtpOptions.MaxQueuedPerDomain"/>), else once it has. The message is queued in the
    /// caller's turn, so its reply cannot reach the log before the caller has marked it relayed.
    /// </summary>
    public ValueTask AcceptAsync(OutboundMessage message)
    {
        if (!_options.IsConfigured)
        {
            throw new InvalidOperationException(SmtpOptions.NotConfigured);
        }

        EnsureStarted();
        var domain = MessageIdentity.DomainOf(message.Address);
        var lane = _lanes.GetOrAdd(domain, d => new DomainLane(this, d));
        if (lane.Room.HasRoom)
        {
            lane.Enqueue(new SmtpJob(message, domain));
            return ValueTask.CompletedTask;
        }

        return AcceptWhenRoomAsync(lane, message);
    }

    private static async ValueTask AcceptWhenRoomAsync(DomainLane lane, OutboundMessage message)
    {
        await lane.Room.WaitAsync();
        lane.Enqueue(new SmtpJob(message, lane.Domain));
    }

    /// <summary>
    /// R14.4: sends one proof to <paramref name="address"/> through the same smart host, on a connection
    /// of its own outside the domain lanes, so no rate, deferral or reply reaches a log. Its envelope
    /// sender and Message-ID name no log, so a bounce of it is never read as a recipient's. Returns
    /// null when the host took it, or why it did not.
    /// </summary>
    public async Task<string?> SendProofAsync(OutboundMessage message, int number, string address, CancellationToken cancellationToken)
    {
        if (!_options.IsConfigured)
        {
            return SmtpOptions.NotConfigured;
        }

        var (mime, _) = _factory.Value.Build(message, _time.GetUtcNow(), proof: true);
        mime.Subject = $"[Proof {number}] {mime.Subject}";
        mime.To.Clear();
        mime.To.Add(MailboxAddress.Parse(address));
        mime.MessageId = $"proof-{message.DeliveryId}-{number}-{Guid.NewGuid():N}@{_options.BounceDomain}";
        var sender = new MailboxAddress("", $"proofs@{_options.BounceDomain}");
        _dkim.Sign(mime);
        using var client = new RelayClient { Notify = DeliveryStatusNotification.Never };
        try
        {
            await ConnectAsync(client, cancellationToken);
            await client.SendAsync(mime, sender, [MailboxAddress.Parse(address)], cancellationToken);
            return null;
        }
        catch (SmtpCommandException ex)
        {
            return $"{(int)ex.StatusCode} {ex.Message}";
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or SocketException or TimeoutException
            or SslHandshakeException or ServiceNotConnectedException or AuthenticationException or ServiceNotAuthenticatedException)
        {
            return $"the SMTP relay did not answer: {ex.Message}";
        }
        finally
        {
            await DisconnectAsync(client);
        }
    }

    /// <summary>
    /// The first step of a silo's stop, while its grains still take calls: no transaction starts any
    /// more, and every reply already had is posted to its partition (within <paramref name="cancellationToken"/>).
    /// A reply lost here would leave a message the server took to be sent again by the next activation.
    /// </summary>
    public async Task StopSendingAsync(CancellationToken cancellationToken)
    {
        await _sending.CancelAsync();
        foreach (var lane in _lanes.Values)
        {
            lane.Complete();
        }

        try
        {
            await Task.WhenAll(_lanes.Values.Select(l => l.Workers)).WaitAsync(cancellationToken);
            _replies.Writer.TryComplete();
            await _poster.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // The stop's time ran out: what was not posted is relayed again by the partition's next activation.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sending.CancelAsync();
        await _stop.CancelAsync();
        _replies.Writer.TryComplete();
        foreach (var lane in _lanes.Values)
        {
            lane.Complete();
        }

        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }

        try
        {
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Stopping: a worker still in a transaction is abandoned with its connection.
        }

        _stop.Dispose();
        _sending.Dispose();
    }

    private void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _poster = Task.Run(() => PostRepliesAsync(_stop.Token));
            Track(_poster);

            Track(Task.Run(() => ReportDomainsAsync(_stop.Token)));
        }
    }

    private void Track(Task task)
    {
        lock (_running)
        {
            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(task);
        }
    }

    private void Later(DomainLane lane, SmtpJob job, TimeSpan delay) =>
        Track(Task.Run(async () =>
        {
            try
            {
                await Task.Delay(delay, _time, _sending.Token);
                lane.Enqueue(job);
            }
            catch (OperationCanceledException)
            {
                // Stopping: the message stays in its log as not relayed.
            }
        }));

    private TimeSpan DeferralDelay(int deferrals)
    {
        var factor = Math.Pow(2, Math.Min(deferrals - 1, 20));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.DeferralDelay.Ticks * factor, _options.MaxDeferralDelay.Ticks));
        return delay;
    }

    /// <summary>Whether the partition of a queued message relays now (R2 pause and stop), read at most once a second.</summary>
    private async ValueTask<RelayState> RelayStateOfAsync(OutboundMessage message)
    {
        var key = GrainKeys.Partition(message.DeliveryId, message.Partition);
        var now = _time.GetUtcNow();
        if (_relayStates.TryGetValue(key, out var known) && now - known.ReadAt < RelayStateTtl)
        {
            return known.State;
        }

        var state = await _grains.GetGrain<IDeliveryPartitionGrain>(key).GetRelayStateAsync();
        _relayStates[key] = (state, now);
        if (_relayStates.Count > 10_000)
        {
            foreach (var (k, v) in _relayStates)
            {
                if (now - v.ReadAt > TimeSpan.FromMinutes(1))
                {
                    _relayStates.TryRemove(k, out _);
                }
            }
        }

        return state;
    }

    /// <summary>One transaction for one job on a connection of its lane: the qualified final reply, traced when a tracer listens.</summary>
    private async Task<SmtpQualification> TransactAsync(RelayClient client, SmtpJob job, CancellationToken cancellationToken)
    {
        using var activity = DeliveryTracing.Source.StartActivity("smtp send", ActivityKind.Client);
        activity?.SetTag("deliverygrains.delivery_id", job.Message.DeliveryId);
        activity?.SetTag("deliverygrains.attempt", job.Message.Attempt);
        activity?.SetTag("server.address", _options.Host);
        activity?.SetTag("server.port", _options.Port);
        var qualification = await TransactOnceAsync(client, job, cancellationToken);
        activity?.SetTag("deliverygrains.smtp.verdict", qualification.Verdict.ToString());
        activity?.SetTag("deliverygrains.smtp.rule", qualification.Rule);
        return qualification;
    }

    private async Task<SmtpQualification> TransactOnceAsync(RelayClient client, SmtpJob job, CancellationToken cancellationToken)
    {
        if (job.Mime is null)
        {
            // Outside the SMTP handling: a fault here (the tracking key unreadable) is ours, not the server's,
            // and the lane's worker puts the message back without touching the domain's rate.
            var signer = await _tracking.SignerAsync();
            try
            {
                var (mime, sender) = _factory.Value.Build(job.Message, _time.GetUtcNow(), signer);

                // R13.6: signed last, over the message exactly as it goes on the wire; kept only once signed.
                _dkim.Sign(mime);
                (job.Mime, job.Sender) = (mime, sender);
            }
            catch (Content.TemplateRenderException ex)
            {
                // R14.1: a template that hits a bound fails this message for good (it would fail again), never the lane.
                LogNotRendered(job.Message.DeliveryId, ex.Message);
                return SmtpQualification.ContentFailure(ex.Message);
            }
        }

        try
        {
            if (!client.IsConnected)
            {
                try
                {
                    await ConnectAsync(client, cancellationToken);
                }
                catch (Exception ex) when (IsUnanswered(ex) && !cancellationToken.IsCancellationRequested && !client.IsConnected)
                {
                    // No connection at all: the domain's breaker decides when to try again (ConnectionBreaker).
                    LogUnanswered(job.Domain, ex.GetType().Name, ex.Message);
                    await DisconnectAsync(client);
                    return SmtpReplyTable.Unreachable(ex.GetType().Name);
                }
            }

            client.Notify = job.Message.EmailFeedbackService
                ? DeliveryStatusNotification.Success | DeliveryStatusNotification.Failure | DeliveryStatusNotification.Delay
                : DeliveryStatusNotification.Failure | DeliveryStatusNotification.Delay;
            await client.SendAsync(job.Mime, job.Sender!, [job.Recipient], cancellationToken);
            return SmtpQualification.Relayed;
        }
        catch (SmtpCommandException ex)
        {
            var qualification = SmtpReplyTable.Qualify((int)ex.StatusCode, ex.Message);
            if (qualification.Verdict == SmtpVerdict.Deferred || !await client.TryResetAsync(cancellationToken))
            {
                await DisconnectAsync(client);
            }

            return qualification;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsUnanswered(ex))
        {
            // R12.3: no connection, a timeout, a TLS failure or a dropped connection: nothing was answered.
            LogUnanswered(job.Domain, ex.GetType().Name, ex.Message);
            await DisconnectAsync(client);
            return SmtpReplyTable.Unanswered(ex.GetType().Name);
        }
    }

    /// <summary>Failures after which nothing was answered: the message was not taken and goes again.</summary>
    private static bool IsUnanswered(Exception ex) =>
        ex is SmtpProtocolException or IOException or SocketException or TimeoutException or OperationCanceledException
            or SslHandshakeException or ServiceNotConnectedException or AuthenticationException or ServiceNotAuthenticatedException
            or NotSupportedException;

    private async Task ConnectAsync(RelayClient client, CancellationToken cancellationToken)
    {
        client.Timeout = (int)_options.Timeout.TotalMilliseconds;
        if (!string.IsNullOrWhiteSpace(_options.HeloName))
        {
            client.LocalDomain = _options.HeloName;
        }

        var security = _options.StartTls switch
        {
            StartTlsMode.None => SecureSocketOptions.None,
            StartTlsMode.Required => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        await client.ConnectAsync(await OpenSocketAsync(cancellationToken), _options.Host!, _options.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(_options.UserName))
        {
            await client.AuthenticateAsync(_options.UserName, _options.Password ?? "", cancellationToken);
        }
    }

    /// <summary>
    /// The connection's socket, opened here rather than by MailKit so Nagle is off: a transaction ends
    /// with a small write (the end of DATA) that Nagle holds back until the server's delayed ACK,
    /// some 40 ms per message, which capped the relay at a few hundred messages a second.
    /// </summary>
    private async Task<Socket> OpenSocketAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connecting.CancelAfter(_options.Timeout);
            await socket.ConnectAsync(_options.Host!, _options.Port, connecting.Token);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"No connection to {_options.Host}:{_options.Port} within {_options.Timeout}.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task DisconnectAsync(RelayClient client)
    {
        if (!client.IsConnected)
        {
            return;
        }

        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.DisconnectAsync(quit: true, quick.Token);
        }
        catch (Exception)
        {
            // The connection is gone either way; the next transaction opens a new one.
        }
    }

    private void Touch(string deliveryId, string domain)
    {
        // Every connection of a busy domain touches the same entry per message: a lock-free read first,
        // so only the first touch after a report takes the dictionary's bucket lock.
        var domains = _touched.GetOrAdd(deliveryId, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
        if (!domains.ContainsKey(domain))
        {
            domains.TryAdd(domain, true);
        }
    }

    /// <summary>Once a second, each delivery whose domains moved gets this relay's absolute figures for them (the domain view).</summary>
    private async Task ReportDomainsAsync(CancellationToken stopping)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await tick.WaitForNextTickAsync(stopping))
            {
                foreach (var deliveryId in _touched.Keys)
                {
                    if (!_touched.TryRemove(deliveryId, out var domains))
                    {
                        continue;
                    }

                    var now = _time.GetUtcNow();
                    var figures = domains.Keys
                        .Select(d => _lanes.TryGetValue(d, out var lane) ? (Domain: d, Figures: new DomainRelayFigures(lane.DeferralsOf(deliveryId), lane.Rate.PerMinute, now)) : default)
                        .Where(x => x.Domain is not null)
                        .ToDictionary(x => x.Domain, x => x.Figures);
                    try
                    {
                        await _grains.GetGrain<IDeliveryDomainsGrain>(deliveryId).ReportAsync(_relayId, figures);
                    }
                    catch (Exception ex) when (!stopping.IsCancellationRequested)
                    {
                        // Figures are absolute: the next report carries them again.
                        foreach (var d in domains.Keys)
                        {
                            Touch(deliveryId, d);
                        }

                        LogDomainsNotReported(ex, deliveryId);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Takes the replies waiting and posts them as one batch per partition, a bounded number of
    /// batches at a time: while the batches are out, the next replies gather, so a busy relay sends
    /// fewer and larger batches and each partition stores its logs once per batch, not once per reply.
    /// </summary>
    private async Task PostRepliesAsync(CancellationToken stopping)
    {
        var reader = _replies.Reader;
        var slots = _replySlots;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                var batches = new Dictionary<string, List<PendingReply>>(StringComparer.Ordinal);
                for (var n = 0; n < MaxRepliesPerDrain && reader.TryRead(out var pending); n++)
                {
                    var key = GrainKeys.Partition(pending.Message.DeliveryId, pending.Message.Partition);
                    if (!batches.TryGetValue(key, out var batch))
                    {
                        batches[key] = batch = [];
                    }

                    batch.Add(pending);
                }

                foreach (var (key, batch) in batches)
                {
                    await slots.WaitAsync(stopping);
                    Track(PostBatchAsync(key, batch, slots, stopping));
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task PostBatchAsync(string partitionKey, List<PendingReply> batch, SemaphoreSlim slots, CancellationToken stopping)
    {
        try
        {
            var unknown = await _grains.GetGrain<IDeliveryPartitionGrain>(partitionKey)
                .RecordSmtpRepliesAsync([.. batch.Select(p => new IndexedSmtpReply(p.Message.RecipientIndex, p.Reply))]);
            if (unknown.Count > 0)
            {
                LogRepliesLost(unknown.Count, batch[0].Message.DeliveryId);
            }
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // Recording a reply twice is harmless (the event id is per attempt), so a failed batch is offered again.
            var again = batch.Where(p => p.Tries + 1 < MaxReplyTries).Select(p => p with { Tries = p.Tries + 1 }).ToList();
            if (again.Count < batch.Count)
            {
                LogReplyLost(ex, batch[0].Message.DeliveryId, batch.Count - again.Count);
            }

            if (again.Count > 0)
            {
                Later(again);
            }
        }
        finally
        {
            slots.Release();
        }
    }

    private void Later(List<PendingReply> replies) =>
        Track(Task.Run(async () =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, _stop.Token);
                foreach (var pending in replies)
                {
                    _replies.Writer.TryWrite(pending);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }));

    private sealed class SmtpJob(OutboundMessage message, string domain)
    {
        public OutboundMessage Message { get; } = message;

        public string Domain { get; } = domain;

        public MailboxAddress Recipient { get; } = MailboxAddress.Parse(message.Address);

        /// <summary>Built once at the first try, so every try after a deferral sends the same message (same Message-ID).</summary>
        public MimeMessage? Mime { get; set; }

        public MailboxAddress? Sender { get; set; }

        public int Deferrals { get; set; }

        /// <summary>
        /// The message has its final answer: a MimeMessage has a finalizer, so one left to the GC
        /// lives through an extra collection and reaches the older generations with its body.
        /// </summary>
        public void Finished()
        {
            Mime?.Dispose();
            Mime = null;
        }
    }

    private sealed record PendingReply(OutboundMessage Message, SmtpReply Reply, int Tries);

    /// <summary>One destination domain: its queue, its connections and its rate.</summary>
    private sealed class DomainLane
    {
        private readonly SmtpRelay _relay;
        private readonly List<Task> _workers = [];
        private readonly Channel<SmtpJob> _queue = Channel.CreateUnbounded<SmtpJob>();
        private readonly ConcurrentDictionary<string, long> _deferralsByDelivery = new(StringComparer.Ordinal);
        private long _relayed;
        private long _refused;
        private long _deferred;
        private long _expired;

        public DomainLane(SmtpRelay relay, string domain)
        {
            _relay = relay;
            Domain = domain;
            Rate = new AdaptiveRate(relay._options, relay._time);
            Breaker = new ConnectionBreaker(relay._options.ProbeInterval, relay._time);
            Room = new QueueRoom(relay._options.MaxQueuedPerDomain);
            for (var i = 0; i < relay._options.ConnectionsPerDomain; i++)
            {
                var worker = Task.Run(() => WorkAsync(relay._sending.Token));
                _workers.Add(worker);
                relay.Track(worker);
            }
        }

        /// <summary>Ends once every connection of the lane has stopped.</summary>
        public Task Workers => Task.WhenAll(_workers);

        public string Domain { get; }

        public AdaptiveRate Rate { get; }

        public ConnectionBreaker Breaker { get; }

        /// <summary>The jobs waiting in this lane's queue, against its limit.</summary>
        public QueueRoom Room { get; }

        /// <summary>Queues a job; a new message waits for <see cref="Room"/> first, a deferred one goes back regardless.</summary>
        public void Enqueue(SmtpJob job)
        {
            Room.Added();
            if (!_queue.Writer.TryWrite(job))
            {
                Room.Left();
            }
        }

        public void Complete()
        {
            _queue.Writer.TryComplete();
            Room.Close();
        }

        public long DeferralsOf(string deliveryId) => _deferralsByDelivery.TryGetValue(deliveryId, out var n) ? n : 0;

        public SmtpDomainStatus Status() => new(
            Domain, Rate.PerMinute, Room.Count, Interlocked.Read(ref _relayed), Interlocked.Read(ref _refused),
            Interlocked.Read(ref _deferred), Interlocked.Read(ref _expired), Rate.Decreases);

        private async Task WorkAsync(CancellationToken stopping)
        {
            using var client = new RelayClient();
            var reader = _queue.Reader;
            try
            {
                while (true)
                {
                    var hold = Breaker.Hold();
                    if (hold > TimeSpan.Zero)
                    {
                        await Task.Delay(hold, _relay._time, stopping);
                        continue;
                    }

                    if (!reader.TryRead(out var job))
                    {
                        if (!await WaitForWorkAsync(client, reader, stopping))
                        {
                            return;
                        }

                        continue;
                    }

                    Room.Left();
                    try
                    {
                        await HandleAsync(client, job, stopping);
                    }
                    catch (Exception ex) when (!stopping.IsCancellationRequested)
                    {
                        // Not an SMTP outcome (a fault of ours): the message waits and goes again, loudly.
                        _relay.LogWorkerFailed(ex, Domain);
                        await DisconnectAsync(client);
                        _relay.Later(this, job, _relay.DeferralDelay(Math.Max(1, job.Deferrals)));
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopping.
            }
            finally
            {
                await DisconnectAsync(client);
            }
        }

        /// <summary>Waits for the next job; an idle connection is closed meanwhile. False once the queue is closed.</summary>
        private async Task<bool> WaitForWorkAsync(RelayClient client, ChannelReader<SmtpJob> reader, CancellationToken stopping)
        {
            if (!client.IsConnected)
            {
                return await reader.WaitToReadAsync(stopping);
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            idle.CancelAfter(_relay._options.IdleTimeout);
            try
            {
                return await reader.WaitToReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                await DisconnectAsync(client);
                return true;
            }
        }

        private async Task HandleAsync(RelayClient client, SmtpJob job, CancellationToken stopping)
        {
            var relay = _relay;
            var m = job.Message;
            if (m.ValidUntil is { } validUntil && relay._time.GetUtcNow() >= validUntil)
            {
                // R12.3, R7.3: the validity period is over; never answered, the message stays as it is.
                Interlocked.Increment(ref _expired);
                relay.Touch(m.DeliveryId, Domain);
                job.Finished();
                return;
            }

            RelayState state;
            try
            {
                state = await relay.RelayStateOfAsync(m);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                relay.LogRelayStateUnknown(ex, m.DeliveryId);
                relay.Later(this, job, PauseRecheck);
                return;
            }

            switch (state)
            {
                case RelayState.Stopped:
                    // R2 stop: nothing more is relayed; the log stays ToDeliver (or fails its retry through the stop).
                    job.Finished();
                    return;
                case RelayState.Paused:
                    relay.Later(this, job, PauseRecheck);
                    return;
            }

            var wait = Rate.Reserve();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, relay._time, stopping);
            }

            var sentAt = relay._time.GetUtcNow();
            var qualification = await relay.TransactAsync(client, job, stopping);
            if (qualification.NoConnection)
            {
                relay._metrics.SmtpReply("unreachable");
                relay._metrics.SmtpDeferred(Domain);
                // The server is not there: the message keeps its place and its delay, and the rate stays
                // what it was; the breaker holds the domain until a probe connects.
                Breaker.NoConnection();
                Interlocked.Increment(ref _deferred);
                _deferralsByDelivery.AddOrUpdate(m.DeliveryId, 1, (_, n) => n + 1);
                relay.Touch(m.DeliveryId, Domain);
                Enqueue(job);
                return;
            }

            Breaker.Connected();
            if (qualification.Verdict == SmtpVerdict.Deferred)
            {
                relay._metrics.SmtpReply("deferred");
                relay._metrics.SmtpDeferred(Domain);
                Rate.Deferred(sentAt);
                Interlocked.Increment(ref _deferred);
                _deferralsByDelivery.AddOrUpdate(m.DeliveryId, 1, (_, n) => n + 1);
                relay.Touch(m.DeliveryId, Domain);
                job.Deferrals++;
                relay.LogDeferred(Domain, qualification.Rule, job.Deferrals);
                relay.Later(this, job, relay.DeferralDelay(job.Deferrals));
                return;
            }

            job.Finished();
            Rate.Answered();
            relay._metrics.SmtpReply(qualification.Verdict == SmtpVerdict.Relayed ? "relayed" : "refused");
            relay.Touch(m.DeliveryId, Domain);
            Interlocked.Increment(ref qualification.Verdict == SmtpVerdict.Relayed ? ref _relayed : ref _refused);
            var reply = new SmtpReply(m.Attempt, qualification.Bounce, qualification.Reason, relay._time.GetUtcNow(), qualification.ContentFailed);
            relay._replies.Writer.TryWrite(new PendingReply(m, reply, Tries: 0));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP relay: a message of delivery {DeliveryId} could not be rendered and fails without blaming its address (R14.1): {Reason}")]
    private partial void LogNotRendered(string deliveryId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SMTP relay: a message to {Domain} was deferred ({Rule}), deferral {Deferrals}")]
    private partial void LogDeferred(string domain, string rule, int deferrals);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SMTP relay: no answer for a message to {Domain}: {Error} {Detail}")]
    private partial void LogUnanswered(string domain, string error, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP relay: {Count} replies to messages of delivery {DeliveryId} could not be recorded")]
    private partial void LogReplyLost(Exception ex, string deliveryId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP relay: {Count} replies to messages of delivery {DeliveryId} found no relayed message to record")]
    private partial void LogRepliesLost(int count, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP relay: the relay state of delivery {DeliveryId} could not be read; its message waits")]
    private partial void LogRelayStateUnknown(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP relay: the domain figures of delivery {DeliveryId} could not be reported; they go with the next report")]
    private partial void LogDomainsNotReported(Exception ex, string deliveryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "SMTP relay: a message to {Domain} failed outside SMTP; it goes again later")]
    private partial void LogWorkerFailed(Exception ex, string domain);
}

/// <summary>One destination domain as the relay of this silo sees it.</summary>
[GenerateSerializer, Immutable, Alias("SmtpDomainStatus")]
public sealed record SmtpDomainStatus(
    [property: Id(0)] string Domain,
    [property: Id(1)] int RateCapPerMinute,
    [property: Id(2)] long Waiting,
    [property: Id(3)] long Relayed,
    [property: Id(4)] long Refused,
    [property: Id(5)] long Deferred,
    [property: Id(6)] long Expired,
    [property: Id(7)] long RateDecreases);
