using System.Diagnostics.Metrics;
using DeliveryGrains.Feedback;

namespace DeliveryGrains.Hosting;

/// <summary>
/// The engine's own counters (meter <c>DeliveryGrains</c>), exported by the silo beside Orleans'
/// meters. Counting is a lock-free add, cheap enough for the per-recipient path.
/// </summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "DeliveryGrains";

    private readonly Counter<long> _relayed;
    private readonly Counter<long> _feedback;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _flushes;

    public DeliveryMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _relayed = meter.CreateCounter<long>("deliverygrains.messages.relayed", "{message}", "Message attempts handed to an MTA (first attempts and retries).");
        _feedback = meter.CreateCounter<long>("deliverygrains.feedback.applied", "{event}", "MTA feedback events applied to sending logs, by type.");
        _duplicates = meter.CreateCounter<long>("deliverygrains.feedback.duplicates", "{event}", "Feedback events dropped because their event id was seen before.");
        _retries = meter.CreateCounter<long>("deliverygrains.retries.scheduled", "{retry}", "Retries scheduled after a soft bounce.");
        _flushes = meter.CreateCounter<long>("deliverygrains.kpi.flushes", "{flush}", "Partition counts flushed up to their delivery.");
    }

    public void Relayed(bool retry) => _relayed.Add(1, new KeyValuePair<string, object?>("attempt", retry ? "retry" : "first"));

    public void FeedbackApplied(FeedbackType type) => _feedback.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));

    public void FeedbackDuplicate() => _duplicates.Add(1);

    public void RetryScheduled() => _retries.Add(1);

    public void KpiFlushed() => _flushes.Add(1);
}
