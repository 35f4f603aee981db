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

    public Task<IReadOnlyList<AddressRecord>> FindExcludedAsync(IReadOnlyList<string> addresses)
    {
        var excluded = new List<AddressRecord>();
        foreach (var address in addresses)
        {
            if (Records.TryGetValue(address, out var record) && record.IsExcluded)
            {
                excluded.Add(record);
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
        if (Records.Remove(address))
        {
            await Writer.SaveAsync();
        }

        return released;
    }

    public Task<AddressRecord> GetAsync(string address) => Task.FromResult(Get(address));

    private AddressRecord Get(string address) =>
        Records.TryGetValue(address, out var record) ? record : AddressRecord.ValidAddress(address);

    private void Set(AddressRecord record)
    {
        if (record == AddressRecord.ValidAddress(record.Address))
        {
            Records.Remove(record.Address);
        }
        else
        {
            Records[record.Address] = record;
        }
    }
}

/// <summary>R9.1–R9.5 and R9.7: how one event changes an address's record.</summary>
public static class QuarantineRules
{
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
