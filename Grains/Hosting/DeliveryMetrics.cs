using System.Diagnostics;
using System.Diagnostics.Metrics;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Hosting;

/// <summary>
/// The engine's own instruments (meter <c>DeliveryGrains</c>), exported by the silo beside Orleans'
/// meters. Counting is a lock-free add, cheap enough for the per-recipient path; the process gauges
/// are read only when a reader (the Prometheus scrape) collects.
/// </summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "DeliveryGrains";

    /// <summary>The KPI lag histogram's instrument name (Prometheus: <c>deliverygrains_kpi_lag_seconds</c>).</summary>
    public const string KpiLagName = "deliverygrains.kpi.lag";

    /// <summary>The current resident set gauge (Prometheus: <c>deliverygrains_process_working_set_bytes</c>).</summary>
    public const string WorkingSetName = "deliverygrains.process.working_set";

    /// <summary>The peak resident set gauge (Prometheus: <c>deliverygrains_process_peak_working_set_bytes</c>).</summary>
    public const string PeakWorkingSetName = "deliverygrains.process.peak_working_set";

    /// <summary>The silo description gauge (Prometheus: <c>deliverygrains_silo_info{storage="…"}</c>, always 1).</summary>
    public const string SiloInfoName = "deliverygrains.silo.info";

    /// <summary>
    /// Bucket bounds of <see cref="KpiLagName"/>, in seconds: fine below the 2 s of R8.5, coarse
    /// above it, so "share within 2 s" is read off a bucket exactly.
    /// </summary>
    public static readonly IReadOnlyList<double> KpiLagBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

    private readonly Counter<long> _relayed;
    private readonly Counter<long> _feedback;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _flushes;
    private readonly Counter<long> _answers;
    private readonly Counter<long> _simulatedRelays;
    private readonly Counter<long> _simulatedRepeats;
    private readonly Histogram<double> _kpiLag;
    private readonly Counter<long> _smtpReplies;
    private readonly Counter<long> _smtpDeferrals;
    private readonly Histogram<double> _storageWrites;
    private volatile string? _storage;

    /// <summary>Bucket bounds of the storage write latency, in seconds: a group commit takes milliseconds, a stalled database seconds.</summary>
    public static readonly IReadOnlyList<double> StorageWriteBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public DeliveryMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _relayed = meter.CreateCounter<long>("deliverygrains.messages.relayed", "{message}", "Message attempts handed to an MTA (first attempts and retries).");
        _feedback = meter.CreateCounter<long>("deliverygrains.feedback.applied", "{event}", "MTA feedback events applied to sending logs, by type.");
        _duplicates = meter.CreateCounter<long>("deliverygrains.feedback.duplicates", "{event}", "Feedback events dropped because their event id was seen before.");
        _retries = meter.CreateCounter<long>("deliverygrains.retries.scheduled", "{retry}", "Retries scheduled after a soft bounce.");
        _flushes = meter.CreateCounter<long>("deliverygrains.kpi.flushes", "{flush}", "Partition counts flushed up to their delivery.");
        _answers = meter.CreateCounter<long>("deliverygrains.recipient.answers", "{recipient}",
            "Recipients counted once per delivery for their own answer (R13.4, R13.5), by kind: unsubscription, complaint.");
        _simulatedRelays = meter.CreateCounter<long>("deliverygrains.simulator.relays", "{message}",
            "Message attempts the simulated MTA of this silo took.");
        _simulatedRepeats = meter.CreateCounter<long>("deliverygrains.simulator.relays.duplicated", "{message}",
            "Message attempts the simulated MTA of this silo took a second time (same message id and attempt): a relay repeated.");
        _kpiLag = meter.CreateHistogram(
            KpiLagName,
            "s",
            "How long a change of a sending log waited before its delivery's KPIs included it (R8.5: at most 2 s).",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = KpiLagBuckets });
        _smtpReplies = meter.CreateCounter<long>("deliverygrains.smtp.replies", "{transaction}",
            "SMTP transactions of the relay by outcome: relayed (2xx), refused (5xx or a refusing 4xx, a bounce), deferred (4xx, a dropped connection), unreachable (no connection).");
        _smtpDeferrals = meter.CreateCounter<long>("deliverygrains.smtp.deferrals", "{message}",
            "Messages the relay must send again later (deferrals and no connection), by destination domain.");
        _storageWrites = meter.CreateHistogram(
            "deliverygrains.storage.write.duration",
            "s",
            "How long a grain waited for its state to be stored in PostgreSQL (group commit included).",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = StorageWriteBuckets });
        meter.CreateObservableGauge(WorkingSetName, ReadWorkingSet, "By", "Resident set of the silo process (working set).");
        meter.CreateObservableGauge(PeakWorkingSetName, ReadPeakWorkingSet, "By",
            "Peak resident set of the silo process since it started (VmHWM on Linux).");
        meter.CreateObservableGauge(SiloInfoName, ReadSiloInfo, unit: null, "Always 1; its storage tag is the silo's DeliveryGrains:Storage.");
    }

    /// <summary>
    /// The silo's storage mode (<c>Memory</c>, <c>Postgres</c>) as the <c>storage</c> tag of
    /// <see cref="SiloInfoName"/>, so a load tool learns it from the scrape; unset, the gauge reports nothing.
    /// </summary>
    public string? StorageMode
    {
        get => _storage;
        set => _storage = value;
    }

    public void Relayed(bool retry) => _relayed.Add(1, new KeyValuePair<string, object?>("attempt", retry ? "retry" : "first"));

    public void FeedbackApplied(FeedbackType type) => _feedback.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));

    public void FeedbackDuplicate() => _duplicates.Add(1);

    public void RetryScheduled() => _retries.Add(1);

    public void KpiFlushed() => _flushes.Add(1);

    /// <summary>One SMTP transaction's outcome: <c>relayed</c>, <c>refused</c>, <c>deferred</c> or <c>unreachable</c>.</summary>
    public void SmtpReply(string outcome) => _smtpReplies.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A message to <paramref name="domain"/> goes again later.</summary>
    public void SmtpDeferred(string domain) => _smtpDeferrals.Add(1, new KeyValuePair<string, object?>("domain", domain));

    public void StorageWrite(TimeSpan took) => _storageWrites.Record(took.TotalSeconds);

    /// <summary>R13.4: a recipient unsubscribed from a delivery (counted once per recipient and delivery, as kpis.unsubscriptions).</summary>
    public void Unsubscribed() => _answers.Add(1, new KeyValuePair<string, object?>("kind", "unsubscription"));

    /// <summary>R13.5: a recipient complained about a delivery (counted once per recipient and delivery, as kpis.complaints).</summary>
    public void Complained() => _answers.Add(1, new KeyValuePair<string, object?>("kind", "complaint"));

    /// <summary>One attempt taken by the simulated MTA; <paramref name="repeated"/> when it took that message id and attempt before.</summary>
    public void SimulatorTook(bool repeated)
    {
        _simulatedRelays.Add(1);
        if (repeated)
        {
            _simulatedRepeats.Add(1);
        }
    }

    /// <summary>
    /// Records one KPI lag into <see cref="KpiLagName"/>: how long a change of a sending log (a status
    /// transition folded into its partition's counts) waited before the delivery's KPIs included it.
    /// A partition calls it after each successful flush of its counts to the delivery, with
    /// <c>now − the instant of the oldest change folded into that flush</c>; R8.5 wants every value
    /// at most 2 s. A negative lag (clock adjustments) is recorded as zero.
    /// </summary>
    public void KpiLag(TimeSpan lag) => _kpiLag.Record(Math.Max(0, lag.TotalSeconds));

    private static long ReadWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static long ReadPeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    private IEnumerable<Measurement<int>> ReadSiloInfo() => _storage is { } storage
        ? [new Measurement<int>(1, new KeyValuePair<string, object?>("storage", storage))]
        : [];
}
