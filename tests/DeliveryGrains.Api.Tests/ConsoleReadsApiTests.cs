using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryGrains.Addresses;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// The reads behind the console's lists: log and exclusion exports (CSV, streamed), the excluded
/// addresses searched and released in bulk, the deliveries list's totals and orders, and compression.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ConsoleReadsApiTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R2.1")]
    public async Task The_log_export_streams_every_log_the_filters_keep_as_csv_over_all_partitions()
    {
        // 40 recipients over three partitions of 16, two of them already excluded at preparation.
        var token = Guid.NewGuid().ToString("N");
        var denied = new[] { $"d0.{token}@example.test", $"d1.{token}@example.test" };
        foreach (var address in denied)
        {
            await Shard(address).OptOutAsync(address, DateTimeOffset.UtcNow);
        }

        var id = await Admin.StartAsync(Bodies.Delivery(40, b =>
        {
            var target = (System.Text.Json.Nodes.JsonArray)b["recipients"]!;
            target[0]!["address"] = denied[0];
            target[1]!["address"] = denied[1];
        }));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 38);
        await Mta.PostJsonAsync("/api/mta/feedback", new[]
        {
            Bodies.Event(id, "p-7", "HardBounce", "UserUnknown"),
            Bodies.Event(id, "p-33", "HardBounce", "UserUnknown"),
            Bodies.Event(id, "p-20", "HardBounce", "MailboxFull"),
        }).ExpectAsync(HttpStatusCode.Accepted);
        await Admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 3);

        using var all = await Admin.GetAsync($"/api/deliveries/{id}/export/logs", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("text/csv", all.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", all.Content.Headers.ContentDisposition?.DispositionType);
        // Written while read: no length announced up front, the body is chunked.
        Assert.Null(all.Content.Headers.ContentLength);
        Assert.True(all.Headers.TransferEncodingChunked);
        var lines = (await all.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("profileId,address,status,failureType,failureReason,attempts,relayedAt,lastEventAt,opened,clicked", lines[0]);
        Assert.Equal(Enumerable.Range(2, 38).Select(i => $"p-{i}").Order(), lines.Skip(1).Select(l => l.Split(',')[0]).Order());

        var unknown = await CsvAsync($"/api/deliveries/{id}/export/logs?failureReason=UserUnknown");
        Assert.Equal(["p-33", "p-7"], unknown.Select(l => l[0]).Order());
        Assert.All(unknown, l => Assert.Equal(("Failed", "Hard", "UserUnknown", "1"), (l[2], l[3], l[4], l[5])));

        var exclusions = await CsvAsync($"/api/deliveries/{id}/export/exclusions");
        Assert.Equal([("p-0", denied[0]), ("p-1", denied[1])], exclusions.Select(l => (l[0], l[1])).Order());
    }

    [Fact]
    [Trait("Rule", "R4")]
    [Trait("Rule", "R2.1")]
    public async Task A_cell_a_spreadsheet_would_run_as_a_formula_is_exported_as_text_and_phone_numbers_stay_as_they_are()
    {
        var token = Guid.NewGuid().ToString("N");
        var recipients = new (string ProfileId, string Address)[]
        {
            ("=1+2", $"a.{token}@example.test"),
            ("+447700900123", $"b.{token}@example.test"),
            ("-12.5", $"c.{token}@example.test"),
            ("x1", "=HYPERLINK(\"http://evil.test\",\"x\")"),
            ("x2", "@SUM(A1)"),
            ("x3", "-2+3"),
            ("x4", "+33612345678"),
        };
        var id = await Admin.StartAsync(Bodies.Delivery(0, b => b["recipients"] = new System.Text.Json.Nodes.JsonArray(
            [.. recipients.Select(r => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["profileId"] = r.ProfileId, ["address"] = r.Address })])));
        await Admin.UntilAsync(id, v => v.Kpi("sent") == 3);

        var logs = await CsvAsync($"/api/deliveries/{id}/export/logs");
        Assert.Equal(new[] { "'=1+2", "+447700900123", "-12.5" }.Order(StringComparer.Ordinal), logs.Select(l => l[0]).Order(StringComparer.Ordinal));

        // The exclusions keep the address as written (InvalidAddress): the raw text shows the guard and the quoting.
        using var raw = await Admin.GetAsync($"/api/deliveries/{id}/export/exclusions");
        var rows = (await raw.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
        [
            "x1,\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\",InvalidAddress",
            "x2,'@SUM(A1),InvalidAddress",
            "x3,'-2+3,InvalidAddress",
            "x4,+33612345678,InvalidAddress",
        ], rows);
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task An_export_with_a_bad_filter_an_unknown_delivery_or_another_creators_delivery_is_refused_before_any_row()
    {
        var id = await host.Client(ApiHostFixture.MarketerKey).CreateAsync(Bodies.Delivery());
        await host.Client(ApiHostFixture.MarketerKey).PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var bad = await Admin.GetAsync($"/api/deliveries/{id}/export/logs?status=Nope&failureReason=Bogus").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("status", out _));
        Assert.True(bad.GetProperty("errors").TryGetProperty("failureReason", out _));
        await Admin.GetAsync($"/api/deliveries/{Guid.NewGuid():N}/export/logs").ExpectAsync(HttpStatusCode.NotFound);
        var other = host.Client(ApiHostFixture.OtherMarketerKey);
        var refused = await other.GetAsync($"/api/deliveries/{id}/export/logs").ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Administration", refused.Str("missingRole"));
        await other.GetAsync($"/api/deliveries/{id}/export/exclusions").ExpectAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task Excluded_addresses_are_searched_and_paged_and_an_administrator_releases_several_at_once()
    {
        var token = Guid.NewGuid().ToString("N");
        var addresses = new[] { $"a.{token}@example.test", $"b.{token}@example.test", $"c.{token}@example.test" };
        foreach (var address in addresses)
        {
            await Shard(address).OptOutAsync(address, DateTimeOffset.UtcNow);
        }

        var reader = host.Client(ApiHostFixture.MarketerKey);
        var first = await reader.GetAsync($"/api/addresses?q={token}&limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, first.GetProperty("total").GetInt32());
        Assert.Equal(addresses[..2], first.GetProperty("items").EnumerateArray().Select(r => r.Str("address")));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("previous").ValueKind);
        var second = await reader.GetAsync($"/api/addresses?q={token}&limit=2&after={Uri.EscapeDataString(first.Str("next"))}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([addresses[2]], second.GetProperty("items").EnumerateArray().Select(r => r.Str("address")));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        var back = await reader.GetAsync($"/api/addresses?q={token}&limit=2&before={Uri.EscapeDataString(second.Str("previous"))}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(addresses[..2], back.GetProperty("items").EnumerateArray().Select(r => r.Str("address")));
        Assert.All(first.GetProperty("items").EnumerateArray(), r => Assert.Equal(("OnDenylist", "Denylisted"), (r.Str("status"), r.Str("reason"))));
        Assert.Equal(0, (await reader.GetAsync($"/api/addresses?q={token}&status=Quarantine").ExpectAsync(HttpStatusCode.OK)).GetProperty("total").GetInt32());
        var invalid = await reader.GetAsync("/api/addresses?status=Valid&limit=0&after=a&before=b").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["before", "limit", "status"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());

        // Without Administration, or with one bad address among good ones: refused, nothing released.
        var forbidden = await reader.PostJsonAsync("/api/addresses/release", new { addresses = addresses[..2] }).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Administration", forbidden.Str("missingRole"));
        var refused = await Admin.PostJsonAsync("/api/addresses/release", new { addresses = new[] { addresses[0], "not an address" } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(refused.GetProperty("errors").TryGetProperty("addresses[1]", out _));
        await Admin.PostJsonAsync("/api/addresses/release", new { addresses = Array.Empty<string>() }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(3, (await reader.GetAsync($"/api/addresses?q={token}").ExpectAsync(HttpStatusCode.OK)).GetProperty("total").GetInt32());

        var released = await Admin.PostJsonAsync("/api/addresses/release", new { addresses = new[] { addresses[0], addresses[2].ToUpperInvariant() } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, released.GetProperty("released").GetInt32());
        var left = await reader.GetAsync($"/api/addresses?q={token}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([addresses[1]], left.GetProperty("items").EnumerateArray().Select(r => r.Str("address")));
        Assert.Equal("Valid", (await Admin.AddressAsync(addresses[0])).Str("status"));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task The_deliveries_list_sorted_by_start_gives_the_latest_started_first_then_those_not_started()
    {
        // Created never, first, second; started second, then first: by start the first created comes first.
        var token = Guid.NewGuid().ToString("N");
        var never = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"never {token}"));
        var first = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"first {token}"));
        var second = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"second {token}"));
        var byStart = $"/api/deliveries?q={token}&sort=Started";

        foreach (var (id, name) in new[] { (second, "second"), (first, "first") })
        {
            await Admin.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);
            await Admin.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

            // The catalog records the start with the status that leaves Ready: once the list no longer finds it Ready,
            // its start is stamped, before the next one is confirmed; the two starts are in this order by construction.
            await Eventually.Until(() => Admin.GetAsync($"/api/deliveries?q={Uri.EscapeDataString($"{name} {token}")}&status=Ready").ExpectAsync(HttpStatusCode.OK),
                ready => ready.GetProperty("total").GetInt32() == 0, $"the catalog to see delivery {id} leave Ready");
        }

        var page = await Admin.GetAsync($"{byStart}&limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal([first, second], page.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));
        var rest = await Admin.GetAsync($"{byStart}&limit=2&after={page.Str("next")}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([never], rest.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));
        var newest = await Admin.GetAsync($"/api/deliveries?q={token}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([second, first, never], newest.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));
    }

    [Fact]
    [Trait("Rule", "R2")]
    public async Task The_deliveries_list_counts_its_matches_sorts_by_name_and_says_when_each_was_created()
    {
        var token = Guid.NewGuid().ToString("N");
        var zeta = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"zeta {token}"));
        var alpha = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"Alpha {token}"));
        var mid = await Admin.CreateAsync(Bodies.Delivery(1, b => b["name"] = $"mid {token}"));

        var byName = await Admin.GetAsync($"/api/deliveries?q={token}&sort=Name&limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, byName.GetProperty("total").GetInt32());
        Assert.Equal([alpha, mid], byName.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));
        var rest = await Admin.GetAsync($"/api/deliveries?q={token}&sort=Name&limit=2&after={byName.Str("next")}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([zeta], rest.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));

        var newest = await Admin.GetAsync($"/api/deliveries?q={token}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([mid, alpha, zeta], newest.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));
        var created = newest.GetProperty("createdAt");
        Assert.True(created.GetProperty(zeta).GetDateTimeOffset() <= created.GetProperty(mid).GetDateTimeOffset());
        var oldest = await Admin.GetAsync($"/api/deliveries?q={token}&sort=oldest").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([zeta, alpha, mid], oldest.GetProperty("items").EnumerateArray().Select(d => d.Str("id")));

        var bad = await Admin.GetAsync("/api/deliveries?sort=Fastest").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(bad.GetProperty("errors").TryGetProperty("sort", out _));
    }

    [Fact]
    [Trait("Rule", "R8")]
    public async Task Json_is_compressed_for_a_client_that_takes_it_and_the_live_stream_is_not()
    {
        var id = await Admin.CreateAsync(Bodies.Delivery());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/deliveries?limit=50");
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var json = await Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(["gzip"], json.Content.Headers.ContentEncoding);

        using var live = new HttpRequestMessage(HttpMethod.Get, $"/api/deliveries/{id}/live");
        live.Headers.AcceptEncoding.ParseAdd("gzip");
        using var stream = await Admin.SendAsync(live, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("gzip", stream.Content.Headers.ContentEncoding);
        Assert.True(stream.Content.Headers.ContentEncoding.All(e => e == "identity"), string.Join(",", stream.Content.Headers.ContentEncoding));

        // The first event arrives while the stream stays open: nothing holds it back.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(bound.Token));
        var line = await reader.ReadLineAsync(bound.Token);
        Assert.False(string.IsNullOrEmpty(line));
    }

    private IAddressBookGrain Shard(string address) =>
        host.Services.GetRequiredService<IGrainFactory>().GetGrain<IAddressBookGrain>(AddressBook.ShardOf(address));

    /// <summary>The CSV's rows after its header, split on commas (the values here hold none).</summary>
    private async Task<List<string[]>> CsvAsync(string path)
    {
        using var response = await Admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(','))];
    }
}
