namespace DeliveryGrains.Logs;

/// <summary>One message's sending log as users read it (R4).</summary>
[GenerateSerializer, Immutable, Alias("SendingLog")]
public sealed record SendingLog(
    [property: Id(0)] string ProfileId,
    [property: Id(1)] string Address,
    [property: Id(2)] LogStatus Status,
    [property: Id(3)] FailureType? FailureType,
    [property: Id(4)] FailureReason? FailureReason,
    [property: Id(5)] int Attempts,
    [property: Id(6)] DateTimeOffset? RelayedAt,
    [property: Id(7)] DateTimeOffset? LastEventAt,
    [property: Id(8)] bool Opened,
    [property: Id(9)] bool Clicked,
    [property: Id(10)] LogPhase Phase);

/// <summary>
/// A recipient's phase and tracking flags packed into one byte: what a partition mirrors
/// per recipient and what log transitions carry.
/// </summary>
[GenerateSerializer, Immutable, Alias("LogMark")]
public readonly record struct LogMark([property: Id(0)] byte Value)
{
    private const byte PhaseMask = 0b0000_0111;
    private const byte OpenedBit = 0b0000_1000;
    private const byte ClickedBit = 0b0001_0000;

    public static LogMark Of(LogPhase phase, bool opened, bool clicked) =>
        new((byte)((byte)phase | (opened ? OpenedBit : 0) | (clicked ? ClickedBit : 0)));

    public LogPhase Phase => (LogPhase)(Value & PhaseMask);
    public bool Opened => (Value & OpenedBit) != 0;
    public bool Clicked => (Value & ClickedBit) != 0;

    /// <summary>The forward order of marks: the later of two reports about one log.</summary>
    public static LogMark Latest(LogMark current, LogMark reported)
    {
        var phase = Rank(reported.Phase) >= Rank(current.Phase) && !current.Phase.IsFinal() ? reported.Phase : current.Phase;
        return Of(phase, current.Opened || reported.Opened, current.Clicked || reported.Clicked);
    }

    private static int Rank(LogPhase phase) => phase switch
    {
        LogPhase.ToDeliver => 0,
        LogPhase.AwaitingOutcome => 1,
        LogPhase.AwaitingRetry => 2,
        _ => 3,
    };
}

/// <summary>
/// A log moved from one mark to another; partitions fold these into their counts. Marks only
/// move forward (ToDeliver, then awaiting an outcome, then awaiting a retry, then final; tracking
/// flags are only ever set), so a partition that sees two reports out of order keeps the later.
/// <see cref="AddressEffect"/> is what the quarantine (R9) must learn from the event, if anything.
/// </summary>
[GenerateSerializer, Immutable, Alias("LogTransition")]
public readonly record struct LogTransition(
    [property: Id(0)] int RecipientIndex,
    [property: Id(1)] LogMark From,
    [property: Id(2)] LogMark To,
    [property: Id(3)] AddressEffect? AddressEffect = null);

/// <summary>What an outcome means for the address it was sent to (R9).</summary>
[GenerateSerializer, Immutable, Alias("AddressEffect")]
public readonly record struct AddressEffect(
    [property: Id(0)] DeliveryGrains.Addresses.AddressEventKind Kind,
    [property: Id(1)] FailureReason? Reason,
    [property: Id(2)] DateTimeOffset At);

/// <summary>
/// A page of a delivery's sending logs: of one status or all, of one failure type and reason or
/// all, whose profile id or address contains <see cref="Text"/> (any case) or all.
/// </summary>
[GenerateSerializer, Immutable, Alias("LogQuery")]
public sealed record LogQuery(
    [property: Id(0)] LogStatus? Status,
    [property: Id(1)] string? After,
    [property: Id(2)] int Limit,
    [property: Id(3)] FailureType? FailureType = null,
    [property: Id(4)] FailureReason? FailureReason = null,
    [property: Id(5)] string? Text = null)
{
    public const int MaxTextLength = 200;

    /// <summary>
    /// The most logs one page reads while looking for a failure type or reason (the partitions mirror
    /// each log's phase, not its reason): past it the page ends early with a cursor to go on from.
    /// </summary>
    public const int ReadBudget = 5000;

    public LogFilter Filter => new(Status, FailureType, FailureReason, string.IsNullOrWhiteSpace(Text) ? null : Text.Trim());
}

/// <summary>What a partition keeps of its logs when it lists them (<see cref="LogQuery"/>).</summary>
[GenerateSerializer, Immutable, Alias("LogFilter")]
public sealed record LogFilter(
    [property: Id(0)] LogStatus? Status,
    [property: Id(1)] FailureType? FailureType,
    [property: Id(2)] FailureReason? FailureReason,
    [property: Id(3)] string? Text)
{
    /// <summary>Failure type and reason are in the logs, not in the partition's mirror: only read logs can tell.</summary>
    public bool NeedsLogs => FailureType is not null || FailureReason is not null;

    public bool Matches(SendingLog log) =>
        (Status is null || log.Status == Status)
        && (FailureType is null || log.FailureType == FailureType)
        && (FailureReason is null || log.FailureReason == FailureReason);

    public bool MatchesRecipient(string profileId, string? address) =>
        Text is null
        || profileId.Contains(Text, StringComparison.OrdinalIgnoreCase)
        || (address is not null && address.Contains(Text, StringComparison.OrdinalIgnoreCase));
}

[GenerateSerializer, Immutable, Alias("LogPage")]
public sealed record LogPage(
    [property: Id(0)] IReadOnlyList<SendingLog> Items,
    [property: Id(1)] string? Next);

/// <summary>
/// The console's page of logs: <see cref="Limit"/> matches of <see cref="Filter"/> after the first
/// <see cref="Offset"/>, in partition order, so a page can go back as well as forward.
/// </summary>
[GenerateSerializer, Immutable, Alias("LogSearch")]
public sealed record LogSearch(
    [property: Id(0)] LogFilter Filter,
    [property: Id(1)] long Offset,
    [property: Id(2)] int Limit);

/// <summary>A page of <see cref="LogSearch"/>: its logs and how many logs of the delivery match in all.</summary>
[GenerateSerializer, Immutable, Alias("LogSearchPage")]
public sealed record LogSearchPage(
    [property: Id(0)] IReadOnlyList<SendingLog> Items,
    [property: Id(1)] long Total,
    [property: Id(2)] long Offset);

/// <summary>What a log export walks: the delivery's partitions, whose keys are <c>GrainKeys.Partition(id, i)</c>.</summary>
[GenerateSerializer, Immutable, Alias("LogExport")]
public sealed record LogExport(
    [property: Id(0)] int PartitionCount,
    [property: Id(1)] bool EmailFeedbackService);
