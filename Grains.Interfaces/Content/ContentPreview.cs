namespace DeliveryGrains.Content;

/// <summary>
/// R14.4: a delivery's content as one recipient of its target gets it, sent nowhere. <see cref="Html"/>
/// is null when the content has no HTML part; <see cref="SmsLength"/> is given for an SMS delivery (R14.5);
/// <see cref="Recipients"/> are the target's first profile ids, to preview another.
/// </summary>
[GenerateSerializer, Immutable, Alias("ContentPreview")]
public sealed record ContentPreview(
    [property: Id(0)] string ProfileId,
    [property: Id(1)] string Subject,
    [property: Id(2)] string? Html,
    [property: Id(3)] string? Text,
    [property: Id(4)] SmsLength? SmsLength,
    [property: Id(5)] string? FromName = null,
    [property: Id(6)] IReadOnlyList<string>? Recipients = null)
{
    /// <summary>How many of the target's first profile ids a preview lists to switch between.</summary>
    public const int SwitchableRecipients = 20;
}

/// <summary>One proof the delivery sent (R14.4): its number, when, to whom and by whom.</summary>
[GenerateSerializer, Immutable, Alias("ProofEntry")]
public sealed record ProofEntry(
    [property: Id(0)] int Number,
    [property: Id(1)] DateTimeOffset SentAt,
    [property: Id(2)] IReadOnlyList<string> Addresses,
    [property: Id(3)] string SentBy,
    [property: Id(4)] string ProfileId);

/// <summary>What a proof request did: how many addresses took the message, and why any did not.</summary>
[GenerateSerializer, Immutable, Alias("ProofResult")]
public sealed record ProofResult(
    [property: Id(0)] int Number,
    [property: Id(1)] int Sent,
    [property: Id(2)] IReadOnlyDictionary<string, string> Refused);

/// <summary>The bounds of a proof request (R14.4).</summary>
public static class ProofRules
{
    /// <summary>The most addresses one proof goes to: proofs are for the team, not a second send.</summary>
    public const int MaxAddresses = 10;

    /// <summary>How many past proofs a delivery lists (the numbering goes on past them).</summary>
    public const int Kept = 50;
}
