using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace DeliveryGrains.Tests.Infrastructure;

/// <summary>Base of the tests that run against the shared cluster: grain access and the waits they share.</summary>
[Collection(ClusterCollection.Name)]
public abstract class ClusterTest(ClusterFixture fixture)
{
    protected TestCluster Cluster => fixture.Cluster;

    protected IGrainFactory Grains => fixture.Cluster.GrainFactory;

    protected IDeliveryGrain Delivery(string id) => Grains.GetGrain<IDeliveryGrain>(id);

    protected IRecipientLogGrain Log(IDeliveryGrain delivery, string profileId) =>
        Grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(delivery.GetPrimaryKeyString(), profileId));

    protected IAddressBookGrain AddressBookOf(string normalizedAddress) =>
        Grains.GetGrain<IAddressBookGrain>(Addresses.AddressBook.ShardOf(normalizedAddress));

    /// <summary>The reminders the silo holds for a grain, read from the reminder table without activating the grain.</summary>
    protected async Task<IReadOnlyList<string>> RemindersOf(IAddressable grain)
    {
        var table = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var rows = await table.ReadRows(grain.GetGrainId());
        return rows.Reminders.Select(r => r.ReminderName).ToList();
    }

    /// <summary>Creates a delivery under a fresh id; it is Draft.</summary>
    protected async Task<IDeliveryGrain> CreateAsync(DeliveryDefinition definition, Caller? caller = null)
    {
        var delivery = Delivery(TestData.NewDeliveryId());
        await delivery.CreateAsync(definition, caller ?? TestData.Alice);
        return delivery;
    }

    /// <summary>Creates and prepares a delivery; it is Ready.</summary>
    protected async Task<IDeliveryGrain> PrepareAsync(DeliveryDefinition definition)
    {
        var delivery = await CreateAsync(definition);
        await delivery.PrepareAsync(TestData.Alice);
        return delivery;
    }

    /// <summary>Creates, prepares and confirms a delivery, then waits (10 s unless told) until every message was relayed and counted.</summary>
    protected async Task<IDeliveryGrain> StartAsync(DeliveryDefinition definition, TimeSpan? timeout = null)
    {
        var delivery = await PrepareAsync(definition);
        await delivery.ConfirmSendAsync(TestData.Alice);
        await ViewUntil(delivery,
            v => v.Status is DeliveryStatus.Sent or DeliveryStatus.Finished && v.Kpis.Sent == v.Kpis.ToDeliver,
            "every message relayed and counted", timeout);
        return delivery;
    }

    /// <summary>Posts one MTA event for a recipient, with a fresh event id unless one is given.</summary>
    protected Task<FeedbackOutcome> FeedAsync(IDeliveryGrain delivery, string profileId, FeedbackType type, FailureReason? reason = null, string? eventId = null) =>
        Log(delivery, profileId).ApplyFeedbackAsync(new FeedbackEvent(
            eventId ?? Guid.NewGuid().ToString("N"), delivery.GetPrimaryKeyString(), profileId, type, reason, DateTimeOffset.UtcNow));

    protected static Task<DeliveryView> ViewUntil(IDeliveryGrain delivery, Func<DeliveryView, bool> condition, string expectation, TimeSpan? timeout = null) =>
        Eventually.Until(delivery.GetViewAsync, condition, expectation, timeout);

    protected static async Task<Kpis> KpisUntil(IDeliveryGrain delivery, Func<Kpis, bool> condition, string expectation, TimeSpan? timeout = null) =>
        (await ViewUntil(delivery, v => condition(v.Kpis), expectation, timeout)).Kpis;

    protected static Task<SendingLog> LogUntil(IDeliveryGrain delivery, string profileId, Func<SendingLog, bool> condition, string expectation, TimeSpan? timeout = null) =>
        Eventually.Until(() => delivery.GetLogAsync(profileId, TestData.Alice), condition, expectation, timeout);

    protected Task<AddressRecord> AddressUntil(string normalizedAddress, Func<AddressRecord, bool> condition, string expectation) =>
        Eventually.Until(() => AddressBookOf(normalizedAddress).GetAsync(normalizedAddress), condition, expectation);

    /// <summary>Sends one message to <paramref name="address"/> in a delivery of its own and posts <paramref name="type"/> for it; waits until the address book shows <paramref name="expected"/>.</summary>
    protected async Task<AddressRecord> AddressEventThroughDeliveryAsync(string address, FeedbackType type, FailureReason? reason, AddressStatus expected, Channel channel = Channel.Email)
    {
        var delivery = await StartAsync(TestData.Definition([new Recipient("earlier", address)], channel: channel));
        await FeedAsync(delivery, "earlier", type, reason);
        var normalized = AddressSyntax.Normalize(address, channel);
        return await AddressUntil(normalized, r => r.Status == expected, $"{normalized} {expected}");
    }

    /// <summary>R9.1: a hard bounce in an earlier delivery quarantines the address.</summary>
    protected Task<AddressRecord> QuarantineAsync(string address, Channel channel = Channel.Email) =>
        AddressEventThroughDeliveryAsync(address, FeedbackType.HardBounce, FailureReason.UserUnknown, AddressStatus.Quarantine, channel);

    /// <summary>R9.5: a complaint in an earlier delivery puts the address on the denylist.</summary>
    protected Task<AddressRecord> DenylistAsync(string address, Channel channel = Channel.Email) =>
        AddressEventThroughDeliveryAsync(address, FeedbackType.Complaint, null, AddressStatus.OnDenylist, channel);

    /// <summary>Every KPI but the time it was computed.</summary>
    protected static Kpis Figures(Kpis kpis) => kpis with { ComputedAt = default };

    /// <summary>The KPIs that follow the logs within the flush period (R8.5): all but opens, clicks and their rates.</summary>
    protected static Kpis RunningFigures(Kpis kpis) =>
        kpis with { ComputedAt = default, Opens = 0, OpenRate = 0, Clicks = 0, ClickThroughRate = 0 };
}
