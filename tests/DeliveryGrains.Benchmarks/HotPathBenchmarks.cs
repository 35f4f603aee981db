using BenchmarkDotNet.Attributes;
using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta;

namespace DeliveryGrains.Benchmarks;

/// <summary>The per-recipient work outside Orleans' own runtime: what a partition and a log compute per event.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const int Recipients = 4096;
    private readonly byte[] _marks = new byte[Recipients];
    private readonly LogMark[] _reported = new LogMark[Recipients];
    private readonly OutboundMessage[] _messages = new OutboundMessage[Recipients];
    private readonly DateTimeOffset _at = DateTimeOffset.UnixEpoch;
    private PartitionCounts[] _partitions = [];

    [GlobalSetup]
    public void Setup()
    {
        var mta = new MtaSettings(MtaKind.Simulated, Seed: 7);
        for (var i = 0; i < Recipients; i++)
        {
            _reported[i] = LogMark.Of((LogPhase)(1 + (i % 4)), i % 3 == 0, i % 10 == 0);
            _messages[i] = new OutboundMessage("d", 0, i, $"p-{i}", $"user{i}@example.test", Channel.Email, 1, true, mta);
        }

        _partitions = Enumerable.Range(0, 245).Select(p => new PartitionCounts(p, 10, 20, 30, 4000, 36, 1200, 400)).ToArray();
    }

    /// <summary>A partition folding one report per recipient into its mirror (the status transition).</summary>
    [Benchmark(OperationsPerInvoke = Recipients)]
    public long FoldTransitions()
    {
        Array.Clear(_marks);
        var histogram = MarkHistogram.Of(_marks);
        for (var i = 0; i < Recipients; i++)
        {
            var current = new LogMark(_marks[i]);
            var next = LogMark.Latest(current, _reported[i]);
            _marks[i] = next.Value;
            histogram.Move(current, next);
        }

        return histogram.ToCounts(1).Delivered;
    }

    /// <summary>The delivery summing a million-recipient delivery's 245 partitions into the Deployment block (the aggregator flush).</summary>
    [Benchmark]
    public Kpis SumPartitions() => PartitionCounts.Sum(_partitions).ToKpis(true, 1200, 400, _at);

    /// <summary>The simulated MTA deciding one attempt's feedback batch.</summary>
    [Benchmark(OperationsPerInvoke = Recipients)]
    public int SimulateFeedbackBatch()
    {
        var events = 0;
        foreach (var message in _messages)
        {
            events += SimulatedOutcomes.For(message, _at).Count;
        }

        return events;
    }

    /// <summary>The quarantine rules applied to a soft bounce.</summary>
    [Benchmark]
    public AddressRecord QuarantineSoftBounce() => QuarantineRules.Apply(
        new AddressRecord("a@example.test", AddressStatus.Erroneous, 2, _at.AddDays(-2), FailureReason.MailboxFull),
        new AddressEvent("a@example.test", AddressEventKind.SoftBounce, FailureReason.MailboxFull, _at),
        new QuarantineOptions());
}
