using System.Net;
using System.Net.Http.Headers;
using DeliveryGrains.Silo.Security;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// <c>/dashboard</c> and <c>/metrics</c> on a silo that listens beyond loopback need Administration
/// or Monitoring; the key comes as <c>X-Api-Key</c> or <c>Authorization: Bearer</c>; the dashboard's
/// Trace is never served.
/// </summary>
public sealed class MonitoringAccessTests(NetworkHostFixture host) : IClassFixture<NetworkHostFixture>
{
    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/metrics")]
    [InlineData("/dashboard")]
    public async Task Without_a_key_monitoring_is_refused_on_a_network_address(string path)
    {
        using var client = host.Client();

        var problem = await client.GetAsync(path).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Contains("Bearer", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [Trait("Rule", "R1.1")]
    [InlineData("/metrics")]
    [InlineData("/dashboard")]
    public async Task A_user_without_Monitoring_or_Administration_is_refused_naming_the_roles(string path)
    {
        using var client = host.Client(h => h.Add("X-Api-Key", NetworkHostFixture.MarketerKey));

        var problem = await client.GetAsync(path).ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Contains("Monitoring", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/metrics", "X-Api-Key", NetworkHostFixture.MonitorKey)]
    [InlineData("/metrics", "Bearer", NetworkHostFixture.MonitorKey)]
    [InlineData("/dashboard", "X-Api-Key", NetworkHostFixture.MonitorKey)]
    [InlineData("/dashboard", "X-Api-Key", NetworkHostFixture.AdminKey)]
    public async Task Monitoring_or_Administration_reads_with_the_key_as_a_header_or_a_bearer_token(string path, string form, string key)
    {
        using var client = host.Client(h =>
        {
            if (form == "Bearer")
            {
                h.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            else
            {
                h.Add(form, key);
            }
        });

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (path == "/metrics")
        {
            Assert.Contains("deliverygrains_silo_info", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task The_dashboard_trace_is_never_served_not_even_to_an_administrator()
    {
        using var client = host.Client(h => h.Add("X-Api-Key", NetworkHostFixture.AdminKey));

        using var response = await client.GetAsync("/dashboard/Trace", HttpCompletionOption.ResponseHeadersRead);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    public void An_address_is_loopback_only_when_it_names_this_machine_alone(string address, bool loopback) =>
        Assert.Equal(loopback, MonitoringAccessHandler.IsLoopback(address));
}
