using Orleans.Concurrency;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Addresses;

[GenerateSerializer, Alias("AddressBookState")]
public sealed class AddressBookState
{
    /// <summary>Addresses with a history, by normalized address; any other address is Valid.</summary>
    [Id(0)] public Dictionary<string, AddressRecord> Records { get; set; } = [];
}

/// <summary>
/// One shard of the quarantine. Reentrant so that concurrent batches share one write: every
/// method changes the records synchronously before its first await, and all writes go through
/// one <see cref="StateWriter"/>.
/// </summary>
[Reentrant]
[GrainType("address-book")]
public sealed class AddressBookGrain(
    [PersistentState("addresses", StorageNames.Addresses)] IPersistentState<AddressBookState> book,
    IOptions<QuarantineOptions> options) : Grain, IAddressBookGrain
{
    private StateWriter? _writer;

    private Dictionary<string, AddressRecord> Records => book.State.Records;

    private StateWriter Writer => _writer ??= new StateWriter(() => book.WriteStateAsync());

    /// <summary>
    /// R13.7: records written before addresses were matched without regard to case are moved to
    /// their case-folded key here, merged with a record already there, so this shard answers for them
    /// from its first call. Records whose folded key belongs to another shard stay under their old key
    /// (no lookup finds them there) until <see cref="HandOverAsync"/> gives them to that shard: handing
    /// them over here would await another shard that may itself be activating and waiting on this one.
    /// </summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = (int)this.GetPrimaryKeyLong();
        foreach (var (key, record) in Records.Where(r => r.Key != AddressBook.Key(r.Key)).ToList())
        {
            if (AddressBook.ShardOf(key) == self)
            {
                Records.Remove(key);
                Merge(record with { Address = AddressBook.Key(key) });
                _folded = true;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Records re-keyed in memory at activation and not stored yet.</summary>
    private bool _folded;

    public async Task HandOverAsync()
    {
        var leaving = Records.Where(r => r.Key != AddressBook.Key(r.Key)).ToList();
        if (leaving.Count == 0 && !_folded)
        {
            return;
        }

        // Handed over before this shard forgets them: a failure leaves them here for the next start.
        foreach (var shard in leaving.GroupBy(r => AddressBook.ShardOf(r.Key)))
        {
            await GrainFactory.GetGrain<IAddressBookGrain>(shard.Key).AdoptAsync([.. shard.Select(r => r.Value with { Address = AddressBook.Key(r.Key) })]);
        }

        foreach (var (key, _) in leaving)
        {
            Records.Remove(key);
        }

        _folded = false;
        await Writer.SaveAsync();
    }

    public Task AdoptAsync(IReadOnlyList<AddressRecord> records)
    {
        foreach (var record in records)
        {
            Merge(record with { Address = AddressBook.Key(record.Address) });
        }

        return Writer.SaveAsync();
    }

    /// <summary>Two records of one address (two cases before R13.7) become the one that excludes most: see <see cref="QuarantineRules.Merge"/>.</summary>
    private void Merge(AddressRecord record) =>
        Set(Records.TryGetValue(AddressBook.Key(record.Address), out var held) ? QuarantineRules.Merge(held, record) : record);

    public Task<IReadOnlyList<AddressRecord>> FindExcludedAsync(IReadOnlyList<string> addresses)
    {
        var excluded = new List<AddressRecord>();
        foreach (var address in addresses)
        {
            // Answered in the form asked, so the caller finds its candidate; matched in the folded one (R13.7).
            if (Records.TryGetValue(AddressBook.Key(address), out var record) && record.IsExcluded)
            {
                excluded.Add(record with { Address = address });
            }
        }

        return Task.FromResult<IReadOnlyList<AddressRecord>>(excluded);
    }

    public Task RecordAsync(IReadOnlyList<AddressEvent> events)
    {
        var changed = false;
        foreach (var e in events)
        {
            var before = Get(e.Address);
            var after = QuarantineRules.Apply(before, e, options.Value);
            if (after != before)
            {
                Set(after);
                changed = true;
            }
        }

        return changed ? Writer.SaveAsync() : Task.CompletedTask;
    }

    public async Task<AddressRecord> OptOutAsync(string address, DateTimeOffset at)
    {
        // Read before the write is awaited: the answer is what this call did, whatever runs meanwhile.
        var saved = RecordAsync([new AddressEvent(address, AddressEventKind.OptOut, FailureReason.Denylisted, at)]);
        var record = Get(address);
        await saved;
        return record;
    }

    public async Task<AddressRecord> ReleaseAsync(string address)
    {
        var released = AddressRecord.ValidAddress(address);
        if (Records.Remove(AddressBook.Key(address)))
        {
            await Writer.SaveAsync();
        }

        return released;
    }

    public async Task<int> ReleaseManyAsync(IReadOnlyList<string> addresses)
    {
        var released = addresses.Count(a => Records.Remove(AddressBook.Key(a)));
        if (released > 0)
        {
            await Writer.SaveAsync();
        }

        return released;
    }

    public Task<AddressSearchPage> SearchExcludedAsync(AddressSearch search)
    {
        var total = 0;
        var window = new List<AddressRecord>();
        foreach (var record in Records.Values)
        {
            if (!search.Keeps(record))
            {
                continue;
            }

            total++;
            if ((search.After is null || string.CompareOrdinal(record.Address, search.After) > 0)
                && (search.Before is null || string.CompareOrdinal(record.Address, search.Before) < 0))
            {
                window.Add(record);
            }
        }

        window.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
        IReadOnlyList<AddressRecord> page = search.Before is not null && search.After is null
            ? window[Math.Max(0, window.Count - search.Limit)..]
            : window[..Math.Min(search.Limit, window.Count)];
        return Task.FromResult(new AddressSearchPage(page, total));
    }

    public Task<AddressRecord> GetAsync(string address) => Task.FromResult(Get(address));

    /// <summary>The record of <paramref name="address"/>, found in its folded form (R13.7) and answered in the form asked.</summary>
    private AddressRecord Get(string address) =>
        Records.TryGetValue(AddressBook.Key(address), out var record) ? record with { Address = address } : AddressRecord.ValidAddress(address);

    /// <summary>Keeps a record under its folded key (R13.7); a Valid record with no history is not kept.</summary>
    private void Set(AddressRecord record)
    {
        var key = AddressBook.Key(record.Address);
        var kept = record with { Address = key };
        if (kept == AddressRecord.ValidAddress(key))
        {
            Records.Remove(key);
        }
        else
        {
            Records[key] = kept;
        }
    }
}

/// <summary>R9.1–R9.5 and R9.7: how one event changes an address's record.</summary>
public static class QuarantineRules
{
    /// <summary>
    /// R13.7: one record from two kept under two cases of one address: OnDenylist (the recipient's own
    /// "no more") first, then OnAllowlist (an administrator's choice), Quarantine, Erroneous with the
    /// larger error count, Valid.
    /// </summary>
    public static AddressRecord Merge(AddressRecord a, AddressRecord b)
    {
        static int Rank(AddressRecord r) => r.Status switch
        {
            AddressStatus.OnDenylist => 4,
            AddressStatus.OnAllowlist => 3,
            AddressStatus.Quarantine => 2,
            AddressStatus.Erroneous => 1,
            _ => 0,
        };

        var (first, second) = Rank(a) != Rank(b) ? (Rank(a) > Rank(b) ? (a, b) : (b, a)) : (a.ErrorCount >= b.ErrorCount ? (a, b) : (b, a));
        return first with
        {
            ErrorCount = Math.Max(first.ErrorCount, second.ErrorCount),
            LastErrorAt = first.LastErrorAt > second.LastErrorAt || second.LastErrorAt is null ? first.LastErrorAt : second.LastErrorAt,
        };
    }

    public static AddressRecord Apply(AddressRecord record, AddressEvent e, QuarantineOptions options)
    {
        // A recipient's own "no more" (complaint, opt-out) outranks an allowlist; nothing else moves a listed address.
        if (record.Status is AddressStatus.OnDenylist or AddressStatus.OnAllowlist && e.Kind is not (AddressEventKind.Complaint or AddressEventKind.OptOut or AddressEventKind.Unsubscribe))
        {
            return record;
        }

        switch (e.Kind)
        {
            case AddressEventKind.HardBounce:
                return record with { Status = AddressStatus.Quarantine, ErrorCount = record.ErrorCount + 1, LastErrorAt = e.At, Reason = e.Reason };

            case AddressEventKind.SoftBounce when record.Status != AddressStatus.Quarantine:
                var counts = record.LastErrorAt is not { } last || e.At - last >= options.SignificantErrorInterval;
                var errors = counts ? record.ErrorCount + 1 : record.ErrorCount;
                return record with
                {
                    Status = errors >= options.MaxErrors ? AddressStatus.Quarantine : AddressStatus.Erroneous,
                    ErrorCount = errors,
                    LastErrorAt = counts ? e.At : record.LastErrorAt,
                    Reason = e.Reason,
                };

            case AddressEventKind.Success when record.Status == AddressStatus.Erroneous:
                return AddressRecord.ValidAddress(record.Address);

            case AddressEventKind.Unsubscribe:
                return record with { Status = AddressStatus.OnDenylist, Reason = FailureReason.Unsubscribed };

            case AddressEventKind.Complaint or AddressEventKind.OptOut:
                return record with { Status = AddressStatus.OnDenylist, Reason = FailureReason.Denylisted };

            default:
                // R9.7: ignored failures never count; a success on a Valid or quarantined address changes nothing.
                return record;
        }
    }
}
