using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace DeliveryGrains.Api.Tests;

/// <summary>Input a hostile or careless caller sends: each answered with a clear 4xx that changes nothing, never a 500 or a stored oddity.</summary>
[Collection(ApiCollection.Name)]
public sealed class HostileInputTests(ApiHostFixture host)
{
    private HttpClient Admin => host.Client(ApiHostFixture.AdminKey);

    private HttpClient Mta => host.Client(ApiHostFixture.MtaKey);

    private static string Error(JsonElement problem, string field) =>
        string.Join(" ", problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()));

    [Theory]
    [Trait("Rule", "R3.4")]
    [InlineData("~")]
    [InlineData("~2026-12")]
    [InlineData("weekly~")]
    public async Task A_delivery_id_with_an_empty_side_of_its_tilde_is_a_400(string id)
    {
        var problem = await Admin.GetAsync($"/api/deliveries/{Uri.EscapeDataString(id)}").ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("TEMPLATE~PERIOD", Error(problem, "id"));
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("Spring\u0000sale")]
    [InlineData("Spring\nsale")]
    public async Task A_delivery_name_with_a_control_character_is_refused_and_nothing_is_created(string name)
    {
        var problem = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b => b["name"] = name)).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("control character", Error(problem, "name"));
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task A_profile_id_with_a_NUL_is_refused()
    {
        var problem = await Admin.PostJsonAsync("/api/deliveries", Bodies.Delivery(tweak: b =>
            b["recipients"] = Bodies.Target(("p\u00000", $"nul.{Guid.NewGuid():N}@example.test")))).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Contains("control characters", Error(problem, "recipients[0].profileId"));
    }

    [Fact]
    [Trait("Rule", "R4")]
    public async Task A_feedback_event_whose_delivery_id_holds_a_slash_is_told_why()
    {
        var result = await Mta.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event("a/b", "p-0", "Delivered") }).ExpectAsync(HttpStatusCode.Accepted);

        var rejection = Assert.Single(result.GetProperty("rejected").EnumerateArray());
        var error = rejection.GetProperty("error").GetString();
        Assert.Contains("cannot contain '/'", error);
        Assert.DoesNotContain("required", error);
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/api/deliveries", "application/json")]
    [InlineData("/api/mta/feedback", "application/json")]
    [InlineData("/api/mta/dsn", "message/rfc822")]
    [InlineData("/api/deliveries/x/prepare", "application/json")]
    public async Task A_body_declared_over_the_limit_is_a_413_before_any_of_it_is_sent(string path, string contentType)
    {
        // Only the headers go: a server that waits for the body answers 408 once its patience ends.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port);
        var stream = tcp.GetStream();
        var headers =
            $"POST {path} HTTP/1.1\r\n" +
            $"Host: {host.BaseAddress.Authority}\r\n" +
            $"X-Api-Key: {(path.StartsWith("/api/mta", StringComparison.Ordinal) ? ApiHostFixture.MtaKey : ApiHostFixture.AdminKey)}\r\n" +
            $"Content-Type: {contentType}\r\n" +
            $"Content-Length: {40L << 20}\r\n" +
            "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("HTTP/1.1 413 Payload Too Large", statusLine);
    }
}
