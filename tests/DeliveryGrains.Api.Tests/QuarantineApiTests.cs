using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeliveryGrains.Addresses;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// R9 over HTTP, on the host's quarantine settings (<see cref="ApiHostFixture.MaxErrors"/> errors,
/// no significant-error interval): MTA feedback moves the address, the address endpoints show and
/// release it, and preparation excludes it.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class QuarantineApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static string Email(string local) => $"{local}.{Guid.NewGuid():N}@example.test";

    /// <summary>An email delivery on the external MTA to <paramref name="target"/>, started; retries wait an hour, so every soft bounce stays the latest outcome.</summary>
    private async Task<string> StartAsync(params (string ProfileId, string Address)[] target)
    {
        var id = await Admin.StartAsync(Bodies.Delivery(tweak: b => b["recipients"] = Bodies.Target(target)));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == target.Length);
        return id;
    }

    private Task FeedAsync(string deliveryId, string profileId, string type, string? reason = null) =>
        Mta.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(deliveryId, profileId, type, reason) }).ExpectAsync(HttpStatusCode.Accepted);

    private async Task<JsonElement> PrepareAsync(string address)
    {
        var id = await Admin.CreateAsync(Bodies.Delivery(tweak: b => b["recipients"] = Bodies.Target(("again", address))));
        return await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    [Trait("Rule", "R9.2")]
    [Trait("Rule", "R9.3")]
    [Trait("Rule", "R9.6")]
    public async Task The_configured_maximum_of_errors_quarantines_the_address_and_preparation_excludes_it()
    {
        Assert.Equal(2, ApiHostFixture.MaxErrors);
        var address = Email("soft");
        var id = await StartAsync(("p-0", address));

        await FeedAsync(id, "p-0", "SoftBounce", "MailboxFull");
        var erroneous = await Admin.AddressUntilAsync(address, r => r.Str("status") == "Erroneous");
        Assert.Equal(1, erroneous.GetProperty("errorCount").GetInt32());

        // The retry's outcome: with no significant-error interval it counts, and the second error is the last allowed.
        await FeedAsync(id, "p-0", "SoftBounce", "Unreachable");
        var quarantined = await Admin.AddressUntilAsync(address, r => r.Str("status") == "Quarantine");
        Assert.Equal((2, "Unreachable"), (quarantined.GetProperty("errorCount").GetInt32(), quarantined.Str("reason")));
        Assert.NotEqual(JsonValueKind.Null, quarantined.GetProperty("lastErrorAt").ValueKind);

        var prepared = await PrepareAsync(address);
        Assert.Equal(0, prepared.GetProperty("toDeliver").GetInt64());
        Assert.Equal(1, prepared.GetProperty("excluded").GetProperty("QuarantinedAddress").GetInt32());
    }

    [Fact]
    [Trait("Rule", "R9.4")]
    public async Task A_later_success_makes_an_Erroneous_address_Valid_again()
    {
        var address = Email("recovered");
        var id = await StartAsync(("p-0", address));
        await FeedAsync(id, "p-0", "SoftBounce", "MailboxFull");
        await Admin.AddressUntilAsync(address, r => r.Str("status") == "Erroneous");

        await FeedAsync(id, "p-0", "Delivered");

        var valid = await Admin.AddressUntilAsync(address, r => r.Str("status") == "Valid");
        Assert.Equal(0, valid.GetProperty("errorCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, valid.GetProperty("reason").ValueKind);
    }

    [Fact]
    [Trait("Rule", "R9.7")]
    [Trait("Rule", "R4")]
    public async Task Ignored_failures_never_count_towards_quarantine()
    {
        var away = Email("away");
        var witness = SameShardAs(away);
        var id = await StartAsync(("away", away), ("witness", witness));

        // Two errors would quarantine the address here, were they counted.
        await FeedAsync(id, "away", "SoftBounce", "NotConnected");
        await FeedAsync(id, "away", "SoftBounce", "NotConnected");
        await FeedAsync(id, "witness", "HardBounce", "UserUnknown");

        // One partition, one shard, events in order: once the witness is quarantined, the ignored failures are in too.
        await Admin.AddressUntilAsync(witness, r => r.Str("status") == "Quarantine");
        var record = await Admin.AddressAsync(away);
        Assert.Equal(("Valid", 0), (record.Str("status"), record.GetProperty("errorCount").GetInt32()));
        var log = await Admin.GetAsync($"/api/deliveries/{id}/logs/away").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Ignored", "NotConnected"), (log.Str("failureType"), log.Str("failureReason")));
    }

    [Fact]
    [Trait("Rule", "R9.5")]
    public async Task A_complaint_puts_the_address_on_the_denylist()
    {
        var address = Email("complainer");
        var id = await StartAsync(("p-0", address));
        await FeedAsync(id, "p-0", "Delivered");

        await FeedAsync(id, "p-0", "Complaint");

        var record = await Admin.AddressUntilAsync(address, r => r.Str("status") == "OnDenylist");
        Assert.Equal("Denylisted", record.Str("reason"));
        var prepared = await PrepareAsync(address);
        Assert.Equal(1, prepared.GetProperty("excluded").GetProperty("Denylisted").GetInt32());
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R1")]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R13.7")]
    public async Task Only_Administration_releases_and_the_domain_part_is_compared_case_insensitively()
    {
        var local = $"Mixed.{Guid.NewGuid():N}";
        var id = await StartAsync(("p-0", $"{local}@EXAMPLE.Test"));
        await FeedAsync(id, "p-0", "HardBounce", "UserUnknown");

        var quarantined = await Admin.AddressUntilAsync($"{local}@Example.TEST", r => r.Str("status") == "Quarantine");
        Assert.Equal($"{local}@example.test", quarantined.Str("address"));
        // R13.7: the local part's case does not make another record either.
        Assert.Equal("Quarantine", (await Admin.AddressAsync($"{local.ToLowerInvariant()}@example.test")).Str("status"));
        Assert.Equal("Quarantine", (await host.Client(ApiHostFixture.MarketerKey).AddressAsync($"{local}@example.test")).Str("status"));
        await host.Client(ApiHostFixture.SupervisorKey).GetAsync($"/api/addresses/{local}@example.test").ExpectAsync(HttpStatusCode.Forbidden);

        var release = $"/api/addresses/{Uri.EscapeDataString($"{local}@example.TEST")}/release";
        foreach (var key in new[] { ApiHostFixture.MarketerKey, ApiHostFixture.SupervisorKey, ApiHostFixture.MtaKey })
        {
            var problem = await host.Client(key).PostEmptyAsync(release).ExpectAsync(HttpStatusCode.Forbidden);
            Assert.Equal("Administration", problem.Str("missingRole"));
            Assert.Contains("Administration", problem.Str("detail"));
        }

        Assert.Equal("Quarantine", (await Admin.AddressAsync($"{local}@example.test")).Str("status"));
        var released = await Admin.PostEmptyAsync(release).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(($"{local}@example.test", "Valid", 0), (released.Str("address"), released.Str("status"), released.GetProperty("errorCount").GetInt32()));
        Assert.Equal("Valid", (await Admin.AddressAsync($"{local}@example.test")).Str("status"));
        Assert.Equal(1, (await PrepareAsync($"{local}@Example.Test")).GetProperty("toDeliver").GetInt64());
    }

    /// <summary>A fresh address in the same address-book shard as <paramref name="address"/>.</summary>
    private static string SameShardAs(string address)
    {
        var shard = AddressBook.ShardOf(address);
        while (true)
        {
            var candidate = Email("witness");
            if (AddressBook.ShardOf(candidate) == shard)
            {
                return candidate;
            }
        }
    }
}
