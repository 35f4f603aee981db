using System.Net;
using System.Net.Http.Headers;
using DeliveryGrains.Silo.Security;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// <c>/dashboard</c> and <c>/metrics</c> on a silo that listens beyond loopback need Administration
/// or Monitoring; the key comes as <c>X-Api-Key</c> or <c>Authorization: Bearer</c>; the dashboard's
/// Trace is never served.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class MonitoringAccessTests(ApiHostFixture host)
{
    private HttpClient Client(Action<HttpRequestHeaders>? headers = null)
    {
        var client = host.Client(null);
        headers?.Invoke(client.DefaultRequestHeaders);
        return client;
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/metrics")]
    [InlineData("/dashboard")]
    public async Task Without_a_key_monitoring_is_refused_on_a_network_address(string path)
    {
        using var client = Client();

        var problem = await client.GetAsync(path).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Contains("Bearer", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [Trait("Rule", "R1.1")]
    [InlineData("/metrics")]
    [InlineData("/dashboard")]
    public async Task A_user_without_Monitoring_or_Administration_is_refused_naming_the_roles(string path)
    {
        using var client = Client(h => h.Add("X-Api-Key", ApiHostFixture.MarketerKey));

        var problem = await client.GetAsync(path).ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Contains("Monitoring", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData("/metrics", "X-Api-Key", ApiHostFixture.MonitorKey)]
    [InlineData("/metrics", "Bearer", ApiHostFixture.MonitorKey)]
    [InlineData("/dashboard", "X-Api-Key", ApiHostFixture.MonitorKey)]
    [InlineData("/dashboard", "X-Api-Key", ApiHostFixture.AdminKey)]
    public async Task Monitoring_or_Administration_reads_with_the_key_as_a_header_or_a_bearer_token(string path, string form, string key)
    {
        using var client = Client(h =>
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
        using var client = Client(h => h.Add("X-Api-Key", ApiHostFixture.AdminKey));

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

    [Theory]
    [Trait("Rule", "R1.2")]
    [InlineData(true, "http://127.0.0.1:8080")]
    [InlineData(true, "http://127.0.0.1:8080", "http://[::1]:8080")]
    [InlineData(false, "http://127.0.0.1:8080", "http://0.0.0.0:8081")]
    [InlineData(false)]
    public void Monitoring_is_open_only_while_every_listening_address_is_loopback(bool open, params string[] addresses)
    {
        var server = new ListeningServer(addresses);

        Assert.Equal(open, MonitoringAccessHandler.ListensOnLoopbackOnly(server));
    }

    private sealed class ListeningServer : Microsoft.AspNetCore.Hosting.Server.IServer
    {
        public ListeningServer(IEnumerable<string> addresses)
        {
            var feature = new Microsoft.AspNetCore.Hosting.Server.Features.ServerAddressesFeature();
            foreach (var address in addresses)
            {
                feature.Addresses.Add(address);
            }

            Features.Set<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>(feature);
        }

        public Microsoft.AspNetCore.Http.Features.IFeatureCollection Features { get; } = new Microsoft.AspNetCore.Http.Features.FeatureCollection();

        public Task StartAsync<TContext>(Microsoft.AspNetCore.Hosting.Server.IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
