namespace DeliveryGrains.Deliveries;

[Alias("Channel")]
public enum Channel
{
    Email,
    Sms,
}

/// <summary>The lifecycle of R2.</summary>
[Alias("DeliveryStatus")]
public enum DeliveryStatus
{
    Draft,
    Ready,
    Scheduled,
    InProgress,
    Paused,
    Stopped,
    Sent,
    Finished,
    Failed,
}

[Alias("MtaKind")]
public enum MtaKind
{
    /// <summary>Nothing happens to a relayed message until feedback is posted by the real MTA.</summary>
    External,

    /// <summary>The built-in Enhanced MTA simulator answers by itself.</summary>
    Simulated,

    /// <summary>Real messages over SMTP to the silo's configured relay (R12).</summary>
    Smtp,
}

/// <summary>Why a recipient of the target gets no sending log (R2.1), in the order they are checked.</summary>
[Alias("ExclusionReason")]
public enum ExclusionReason
{
    AddressEmpty,
    InvalidAddress,
    Duplicate,
    QuarantinedAddress,
    Denylisted,
}
