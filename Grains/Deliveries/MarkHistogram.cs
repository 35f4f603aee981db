using DeliveryGrains.Logs;

namespace DeliveryGrains.Deliveries;

/// <summary>Counts of a partition's marks, kept in step with every mark it changes.</summary>
internal sealed class MarkHistogram
{
    private readonly long[] _phases = new long[5];
    private readonly long[] _opened = new long[5];
    private readonly long[] _clicked = new long[5];

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
        _opened[(int)LogPhase.Delivered],
        _clicked[(int)LogPhase.Delivered],
        _opened[(int)LogPhase.AwaitingOutcome] + _opened[(int)LogPhase.AwaitingRetry],
        _clicked[(int)LogPhase.AwaitingOutcome] + _clicked[(int)LogPhase.AwaitingRetry]);

    private void Add(LogMark mark, int sign)
    {
        _phases[(int)mark.Phase] += sign;
        _opened[(int)mark.Phase] += mark.Opened ? sign : 0;
        _clicked[(int)mark.Phase] += mark.Clicked ? sign : 0;
    }
}
