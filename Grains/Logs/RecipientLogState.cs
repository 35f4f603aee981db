using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Logs;

/// <summary>A sending log's stored state: a few dozen bytes beyond the address and the seen event ids.</summary>
[GenerateSerializer, Alias("RecipientLogState")]
public sealed class RecipientLogState
{
    /// <summary>Null until the message is relayed: a log not relayed yet lives only in its partition.</summary>
    [Id(0)] public DeliveryRun? Run { get; set; }
    [Id(1)] public int Partition { get; set; }
    [Id(2)] public int RecipientIndex { get; set; }
    [Id(3)] public string Address { get; set; } = "";
    [Id(4)] public LogPhase Phase { get; set; }
    [Id(5)] public FailureType? FailureType { get; set; }
    [Id(6)] public FailureReason? FailureReason { get; set; }
    [Id(7)] public int Attempts { get; set; }
    [Id(8)] public DateTimeOffset? RelayedAt { get; set; }
    [Id(9)] public DateTimeOffset? LastEventAt { get; set; }
    [Id(10)] public bool Opened { get; set; }
    [Id(11)] public bool Clicked { get; set; }

    /// <summary>
    /// Event ids already applied; each is applied at most once. A message hears a handful of events,
    /// so a list (one small array) is cheaper to keep, copy and store than a hash set; id 12 held the
    /// hash set this replaced and is not reused.
    /// </summary>
    [Id(14)] public List<string> SeenEvents { get; set; } = [];

    /// <summary>While awaiting a retry: whether that retry attempt has gone to the MTA yet.</summary>
    [Id(13)] public bool RetryRelayed { get; set; }

    /// <summary>The recipient's fields from the target, kept only when there are some (SMTP personalization of retries).</summary>
    [Id(15)] public IReadOnlyDictionary<string, string>? Fields { get; set; }

    public LogMark Mark => LogMark.Of(Phase, Opened, Clicked);

    /// <summary>The log as users read it; null until the message is relayed.</summary>
    public SendingLog? ToSendingLog(string profileId) => Run is null
        ? null
        : new SendingLog(profileId, Address, Phase.ToStatus(Run.EmailFeedbackService), FailureType, FailureReason,
            Phase == LogPhase.ToDeliver ? 0 : Attempts, RelayedAt, LastEventAt, Opened, Clicked, Phase);
}
