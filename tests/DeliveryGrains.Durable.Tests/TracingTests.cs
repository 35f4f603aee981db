using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace DeliveryGrains.Durable.Tests;

/// <summary>
/// OpenTelemetry over OTLP (HTTP/protobuf): a silo given the standard OTEL_* variables sends a confirm's
/// trace, from the HTTP request through the grain calls, to the collector it names.
/// </summary>
[Collection(DurableCollection.Name)]
public sealed class TracingTests(PostgresServer server, ITestOutputHelper output)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Area", "Operations")]
    public async Task A_confirm_is_traced_through_the_grain_calls_to_the_OTLP_collector()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var cluster = await SiloCluster.StartAsync(server, "otlp", silos: 1, output, new Dictionary<string, string>
        {
            ["DeliveryGrains__Storage"] = "Postgres",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_SERVICE_NAME"] = "deliverygrains-under-test",
        });

        var id = await cluster.StartDeliveryAsync(Bodies.Delivery(recipients: 3), 3);

        // Protobuf keeps strings as UTF-8 bytes: the spans' names and attributes can be found in the export as they are.
        await Eventually.Until(() => Task.FromResult(collector.Traces()), t => t.Contains(id, StringComparison.Ordinal)
            && t.Contains("/confirm", StringComparison.Ordinal) && t.Contains("ConfirmSend", StringComparison.Ordinal),
            "an exported trace naming the delivery, its confirm request and the grain call it made", TimeSpan.FromSeconds(60));
        var traces = collector.Traces();
        Assert.Contains("Microsoft.Orleans.Application", traces, StringComparison.Ordinal);
        Assert.Contains("Microsoft.AspNetCore", traces, StringComparison.Ordinal);
        Assert.Contains("deliverygrains-under-test", traces, StringComparison.Ordinal);
        Assert.DoesNotContain("/health/", traces, StringComparison.Ordinal);
    }

    /// <summary>A stand-in OpenTelemetry Collector: takes OTLP/HTTP posts and keeps their bodies.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<byte[]> _traces = new();

        private OtlpCollector(WebApplication app, int port)
        {
            _app = app;
            Endpoint = $"http://127.0.0.1:{port}";
        }

        public string Endpoint { get; }

        public static async Task<OtlpCollector> StartAsync()
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app, port);
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                collector._traces.Enqueue(body.ToArray());
                return Results.Ok();
            });
            app.MapPost("/v1/metrics", () => Results.Ok());
            await app.StartAsync();
            return collector;
        }

        /// <summary>Every trace export so far, read as text (Latin-1 keeps every byte).</summary>
        public string Traces() => string.Join("\n", _traces.Select(b => Encoding.Latin1.GetString(b)));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
