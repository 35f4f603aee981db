namespace DeliveryGrains.Logs;

/// <summary>The status a sending log shows (R4).</summary>
[Alias("LogStatus")]
public enum LogStatus
{
    ToDeliver,
    Pending,
    Sent,
    Failed,
}

[Alias("FailureType")]
public enum FailureType
{
    Hard,
    Soft,
    Ignored,
}

[Alias("FailureReason")]
public enum FailureReason
{
    NotDefined,
    UserUnknown,
    AddressEmpty,
    QuarantinedAddress,
    Denylisted,
    InvalidDomain,
    MailboxFull,
    Unreachable,
    Refused,
    AccountDisabled,
    NotConnected,
    Duplicate,
    Expired,

    /// <summary>R13.4: the recipient unsubscribed (one-click or mail to the unsubscribe address); an address reason only.</summary>
    Unsubscribed,
}

/// <summary>
/// Where a message stands, independent of the Email Feedback Service option; the shown
/// <see cref="LogStatus"/> is derived from it (R5, R6). Kept to one byte so that partitions
/// can mirror every recipient's phase cheaply.
/// </summary>
[Alias("LogPhase")]
public enum LogPhase : byte
{
    ToDeliver = 0,

    /// <summary>Relayed, no outcome yet (Pending with EFS, Sent without).</summary>
    AwaitingOutcome = 1,

    /// <summary>The latest outcome is a soft bounce and a retry is scheduled or in flight.</summary>
    AwaitingRetry = 2,

    Delivered = 3,
    Failed = 4,
}

public static class LogPhases
{
    public static bool IsFinal(this LogPhase phase) => phase is LogPhase.Delivered or LogPhase.Failed;

    /// <summary>R5 (without EFS) and R6 (with EFS): what the user sees for a phase.</summary>
    public static LogStatus ToStatus(this LogPhase phase, bool emailFeedbackService) => phase switch
    {
        LogPhase.ToDeliver => LogStatus.ToDeliver,
        LogPhase.AwaitingOutcome => emailFeedbackService ? LogStatus.Pending : LogStatus.Sent,
        LogPhase.AwaitingRetry => emailFeedbackService ? LogStatus.Failed : LogStatus.Sent,
        LogPhase.Delivered => LogStatus.Sent,
        LogPhase.Failed => LogStatus.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };

    /// <summary>R4: the usual failure type of a reason.</summary>
    public static FailureType UsualType(this FailureReason reason) => reason switch
    {
        FailureReason.UserUnknown or FailureReason.AddressEmpty or FailureReason.QuarantinedAddress
            or FailureReason.Denylisted => FailureType.Hard,
        FailureReason.NotConnected or FailureReason.Duplicate or FailureReason.Expired => FailureType.Ignored,
        _ => FailureType.Soft,
    };
}

/// <summary>What a log's retry reminder must do after a change is stored (R7.1).</summary>
[Alias("RetryCommand")]
public enum RetryCommand : byte
{
    None,

    /// <summary>A soft bounce scheduled a retry: the reminder is set one retry period ahead.</summary>
    Schedule,

    /// <summary>A retry is still due (say a repeat of the event that scheduled it): the reminder is set if it is missing.</summary>
    Ensure,

    /// <summary>A retry that was due will not go out: the reminder is dropped.</summary>
    Cancel,
}
