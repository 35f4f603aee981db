namespace DeliveryGrains.Addresses;

/// <summary>
/// R13.7 on stored data: as a durable silo starts, every address-book shard is activated (which
/// re-keys its own records written under another case) and hands the records that now belong to
/// another shard over to it, before the silo's start completes. A shard a lookup reaches later then
/// holds every record of its addresses, whichever shard the case they were written in hashed to.
/// </summary>
public sealed class AddressCaseMigration(IGrainFactory grains) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(AddressCaseMigration), ServiceLifecycleStage.Active, _ =>
            Task.WhenAll(Enumerable.Range(0, AddressBook.ShardCount).Select(shard => grains.GetGrain<IAddressBookGrain>(shard).HandOverAsync())));
}
