using DeliveryGrains.Addresses;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Tracking;

namespace DeliveryGrains.Deliveries;

/// <summary>What recipients answer after the relay: opens and clicks (R13.2, R13.3), unsubscriptions (R13.4).</summary>
public sealed partial class DeliveryPartitionGrain
{
    public async Task<IReadOnlyList<int>> ApplyTrackingAsync(IReadOnlyList<TrackingHit> hits)
    {
        List<int>? unknown = null;
        var run = S.Run;
        var now = time.GetUtcNow();
        foreach (var hit in hits)
        {
            if (run is null || !IsRelayedTo(hit.RecipientIndex, hit.ProfileId))
            {
                (unknown ??= []).Add(hit.RecipientIndex);
                continue;
            }

            if (!S.TryAddHit(hit.HitId))
            {
                // The same request offered again (its first batch was stored but the answer was lost).
                metrics.FeedbackDuplicate();
                continue;
            }

            var index = hit.RecipientIndex;
            var slot = S.Slot(index);
            var before = slot.Mark;
            var command = RetryCommand.None;

            // R7.4 and R8.4 are the status machine's: an open or click after the final state still counts,
            // and a click is an open. Opens and clicks never move the phase, so no retry command follows.
            LogRules.Apply(ref slot, new FeedbackEvent($"trk:{hit.HitId:N}", DeliveryId, hit.ProfileId, hit.Type, null, hit.At), run, now, ref command);
            metrics.FeedbackApplied(hit.Type);
            if (hit.Type == FeedbackType.Click && hit.Link >= 0)
            {
                if (!S.Links.TryGetValue(hit.Link, out var tally))
                {
                    S.Links[hit.Link] = tally = new LinkTally { Url = hit.Url ?? "" };
                }

                tally.Clicks++;
                tally.Clickers.Add(index);
            }

            Put(index, slot, before);
        }

        // Stored before the answer: the tracking endpoint answers the request only once its hit is kept.
        await SaveAsync();
        return (IReadOnlyList<int>?)unknown ?? [];
    }

    public async Task<AnswerOutcome> UnsubscribeAsync(int recipientIndex, string profileId, DateTimeOffset at)
    {
        if (recipientIndex < 0 && Slice.Prepared)
        {
            // Named by profile only (mail to the unsubscribe address, R13.4).
            recipientIndex = IndexOf(profileId);
        }

        if (!IsRelayedTo(recipientIndex, profileId))
        {
            return AnswerOutcome.NoMessage;
        }

        var first = S.Unsubscribed.Add(recipientIndex);
        if (first)
        {
            metrics.Unsubscribed();
            MarkCountsChanged();
            await SaveAsync();
        }

        // At once (R13.4), not with the next flush: the answer says the address is OnDenylist. Asked again
        // even when this recipient had unsubscribed before, in case an administrator released the address since.
        var address = Slice.Members[recipientIndex].Address!;
        await GrainFactory.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address))
            .RecordAsync([new AddressEvent(address, AddressEventKind.Unsubscribe, FailureReason.Unsubscribed, at)]);
        return first ? AnswerOutcome.Recorded : AnswerOutcome.AlreadyRecorded;
    }

    public Task<SentMessage?> FindSentMessageAsync(int recipientIndex, string profileId) =>
        Task.FromResult(S.Run is { } run && IsRelayedTo(recipientIndex, profileId)
            ? new SentMessage(Slice.Members[recipientIndex], run, Math.Max(1, (int)S.Attempts[recipientIndex]))
            : null);

    public Task<IReadOnlyList<LinkCount>> ListLinksAsync() =>
        Task.FromResult<IReadOnlyList<LinkCount>>([.. S.Links.OrderBy(l => l.Key)
            .Select(l => new LinkCount(l.Key, l.Value.Url, l.Value.Clicks, l.Value.Clickers.Count))]);

    /// <summary>Whether the slice handed a message to <paramref name="profileId"/> at <paramref name="recipientIndex"/>.</summary>
    private bool IsRelayedTo(int recipientIndex, string profileId) =>
        Slice.Prepared
        && (uint)recipientIndex < (uint)S.Count
        && S.IsHanded(recipientIndex)
        && string.Equals(Slice.Members[recipientIndex].ProfileId, profileId, StringComparison.Ordinal);

    /// <summary>The counts changed outside a log's mark (unsubscriptions, complaints): the next flush reports them.</summary>
    private void MarkCountsChanged()
    {
        _countsDirty = true;
        _oldestUnflushedChange ??= time.GetUtcNow();
        _unsaved = true;
    }

    /// <summary>The slice's counts now: the marks' histogram and the recipients' own answers.</summary>
    private PartitionCounts CurrentCounts() =>
        _counts.ToCounts(S.Version) with { Unsubscribed = S.Unsubscribed.Count, Complained = S.Complained.Count };
}
