using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>R14.4 proofs and R14.1 rendering bounds on the SMTP road, against the real SMTP server of the tests.</summary>
[Collection(SmtpCollection.Name)]
public sealed class ProofTests(SmtpClusterFixture fixture)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private ScriptedSmtpServer Server => fixture.Server;

    private static readonly MessageContent Content = new(
        "Hi {{ firstName | default: 'there' }}",
        null,
        "<p>Dear {{ firstName }}, see <a href=\"https://shop.test/{{ profileId }}\">the offer</a>.</p>",
        FromName: "Ann's shop");

    [Fact, Trait("Rule", "R14.4")]
    public async Task A_proof_goes_through_the_relay_with_its_number_and_moves_no_log_or_kpi()
    {
        var unique = Unique.Id();
        var recipient = new Recipient($"p-{unique}", $"ok-{unique}-r@content.test", new Dictionary<string, string> { ["firstName"] = "Ann" });
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition([recipient], mta: new MtaSettings(MtaKind.Smtp, Content: Content)), TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        var before = await delivery.GetViewAsync();
        var first = $"ok-{unique}-a@proof.test";
        var second = $"ok-{unique}-b@proof.test";

        var result = await delivery.SendProofsAsync([first, second], null, TestData.Paul);
        var again = await delivery.SendProofsAsync([first], null, TestData.Paul);

        Assert.Equal((1, 2, 0), (result.Number, result.Sent, result.Refused.Count));
        Assert.Equal((2, 1), (again.Number, again.Sent));
        var proof = Server.LastMessageTo[second];
        Assert.Equal("[Proof 1] Hi Ann", proof.Subject);
        Assert.Equal("[Proof 2] Hi Ann", Server.LastMessageTo[first].Subject);
        Assert.Equal(("Ann's shop", "news@sender.test"), (proof.From.Mailboxes.Single().Name, proof.From.Mailboxes.Single().Address));
        Assert.Contains("see the offer (https://shop.test/p-", proof.TextBody);
        Assert.Contains("<p>Dear Ann, see", proof.HtmlBody);

        // Nothing names a log: a bounce of a proof can never be read as the recipient's.
        Assert.Null(MessageIdentity.FromEnvelopeSender(Server.LastEnvelopeSenderTo[second]));
        Assert.Null(MessageIdentity.FromMessageId(proof.MessageId));
        Assert.False(Server.LastMessageTo.ContainsKey(recipient.Address!));

        var after = await delivery.GetViewAsync();
        Assert.Equal(before.Kpis with { ComputedAt = default }, after.Kpis with { ComputedAt = default });
        Assert.Equal(DeliveryStatus.Ready, after.Status);
        Assert.Equal(LogStatus.ToDeliver, (await delivery.GetLogAsync(recipient.ProfileId, TestData.Alice)).Status);
        Assert.Equal(
            [(1, "paul", 2), (2, "paul", 1)],
            after.Proofs!.Select(p => (p.Number, p.SentBy, p.Addresses.Count)).ToArray());
        Assert.Equal([first, second], after.Proofs![0].Addresses);
    }

    [Fact, Trait("Rule", "R14.4")]
    public async Task A_refused_proof_address_is_told_and_the_others_still_get_it()
    {
        var unique = Unique.Id();
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition([new Recipient("p", $"ok-{unique}@content.test")], mta: new MtaSettings(MtaKind.Smtp, Content: Content)), TestData.Alice);

        var result = await delivery.SendProofsAsync([$"r550-{unique}@proof.test", $"ok-{unique}@proof.test"], null, TestData.Alice);

        Assert.Equal(1, result.Sent);
        Assert.StartsWith("550", Assert.Single(result.Refused).Value);
    }

    [Fact, Trait("Rule", "R14.4")]
    public async Task Bad_proof_requests_are_refused_and_change_nothing()
    {
        var unique = Unique.Id();
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition([new Recipient("p", $"ok-{unique}@content.test")], mta: new MtaSettings(MtaKind.Smtp, Content: Content)), TestData.Alice);

        var none = await Assert.ThrowsAsync<ValidationException>(() => delivery.SendProofsAsync([], null, TestData.Alice));
        var bad = await Assert.ThrowsAsync<ValidationException>(() => delivery.SendProofsAsync(["not-an-address"], null, TestData.Alice));
        var many = await Assert.ThrowsAsync<ValidationException>(() =>
            delivery.SendProofsAsync([.. Enumerable.Range(0, ProofRules.MaxAddresses + 1).Select(i => $"ok-{unique}-{i}@proof.test")], null, TestData.Alice));
        var stranger = await Assert.ThrowsAsync<ValidationException>(() => delivery.SendProofsAsync([$"ok-{unique}@proof.test"], "nobody", TestData.Alice));
        await Assert.ThrowsAsync<MissingRoleException>(() => delivery.SendProofsAsync([$"ok-{unique}@proof.test"], null, TestData.Ada));

        Assert.Contains("Give 1 to", none.Errors["addresses"][0]);
        Assert.Contains("'not-an-address' is not an email address", bad.Errors["addresses"][0]);
        Assert.Contains("at most", many.Errors["addresses"][0]);
        Assert.Contains("'nobody' is not a recipient", stranger.Errors["profileId"][0]);
        Assert.Null((await delivery.GetViewAsync()).Proofs);
        Assert.False(Server.LastMessageTo.ContainsKey($"ok-{unique}@proof.test"));
    }

    [Fact, Trait("Rule", "R14.1")]
    public async Task A_template_that_loops_for_ever_fails_its_message_and_the_relay_goes_on()
    {
        var unique = Unique.Id();
        var looping = new Recipient("loop", $"ok-{unique}-loop@content.test", new Dictionary<string, string> { ["n"] = "50000" });

        // Both addresses in one address-book shard, so the partition's address events for them arrive there in order.
        var fine = Enumerable.Range(0, 10_000).Select(i => new Recipient("fine", $"ok-{unique}-fine{i}@content.test"))
            .First(r => Addresses.AddressBook.ShardOf(r.Address!) == Addresses.AddressBook.ShardOf(looping.Address!));
        var content = new MessageContent("s", "{% if n %}{% for i in (1..n) %}{% for j in (1..n) %}{% endfor %}{% endfor %}{% endif %}done", null);
        var delivery = Grains.GetGrain<IDeliveryGrain>(TestData.NewDeliveryId());
        await delivery.CreateAsync(TestData.Definition([looping, fine], mta: new MtaSettings(MtaKind.Smtp, Content: content), maxRetries: 0), TestData.Alice);
        await delivery.PrepareAsync(TestData.Alice);
        await delivery.ConfirmSendAsync(TestData.Alice);

        var failed = await Eventually.Until(() => delivery.GetLogAsync("loop", TestData.Alice), l => l.Status == LogStatus.Failed, "the looping message failed", Long);
        var sent = await Eventually.Until(() => delivery.GetLogAsync("fine", TestData.Alice), l => l.Status == LogStatus.Sent, "the other message relayed", Long);

        Assert.Equal(FailureType.Hard, failed.FailureType);
        Assert.Equal("done", Server.LastMessageTo[fine.Address!].TextBody?.Trim());
        Assert.False(Server.LastMessageTo.ContainsKey(looping.Address!));
        Assert.Equal(LogStatus.Sent, sent.Status);

        // The address is not to blame: a hard bounce of the other recipient, applied after the failure in the
        // same partition, reaches the address book while the looping recipient's address stays Valid.
        Assert.Equal(1, await delivery.GetPartitionCountAsync());
        var partition = Grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(delivery.GetPrimaryKeyString(), 0));
        await partition.ApplyLogFeedbackAsync("fine",
            [new Feedback.FeedbackEvent(Unique.Id(), delivery.GetPrimaryKeyString(), "fine", Feedback.FeedbackType.HardBounce, FailureReason.UserUnknown, DateTimeOffset.UtcNow)]);
        await Eventually.Until(() => Book(fine.Address!).GetAsync(fine.Address!), r => r.Status == Addresses.AddressStatus.Quarantine, "the later hard bounce recorded", Long);
        Assert.Equal(Addresses.AddressStatus.Valid, (await Book(looping.Address!).GetAsync(looping.Address!)).Status);
    }

    private Addresses.IAddressBookGrain Book(string address) => Grains.GetGrain<Addresses.IAddressBookGrain>(Addresses.AddressBook.ShardOf(address));
}
