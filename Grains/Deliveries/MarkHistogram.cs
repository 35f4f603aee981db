using DeliveryGrains.Logs;

namespace DeliveryGrains.Deliveries;

/// <summary>Counts of a partition's marks, kept in step with every mark it changes.</summary>
internal sealed class MarkHistogram
{
    private readonly long[] _phases = new long[5];
    private long _opened;
    private long _clicked;

    public static MarkHistogram Of(ReadOnlySpan<byte> marks)
    {
        var histogram = new MarkHistogram();
        foreach (var mark in marks)
        {
            histogram.Add(new LogMark(mark), +1);
        }

        return histogram;
    }

    public void Move(LogMark from, LogMark to)
    {
        Add(from, -1);
        Add(to, +1);
    }

    public PartitionCounts ToCounts(long version) => new(
        version,
        _phases[(int)LogPhase.ToDeliver],
        _phases[(int)LogPhase.AwaitingOutcome],
        _phases[(int)LogPhase.AwaitingRetry],
        _phases[(int)LogPhase.Delivered],
        _phases[(int)LogPhase.Failed],
        _opened,
        _clicked);

    private void Add(LogMark mark, int sign)
    {
        _phases[(int)mark.Phase] += sign;
        _opened += mark.Opened ? sign : 0;
        _clicked += mark.Clicked ? sign : 0;
    }
}
