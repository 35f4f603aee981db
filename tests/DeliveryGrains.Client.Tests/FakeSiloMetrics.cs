using System.Net;
using System.Text;

namespace DeliveryGrains.Client.Tests;

/// <summary>
/// A stand-in for a silo's <c>/metrics</c> on a <see cref="FreePort"/>: the first scrape answers
/// <paramref name="before"/>, every later one <paramref name="after"/>, so a load run's deltas are known.
/// </summary>
public sealed class FakeSiloMetrics : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _before;
    private readonly string _after;
    private readonly Task _serving;
    private int _requests;

    public FakeSiloMetrics(string before, string after)
    {
        _before = before;
        _after = after;
        var port = FreePort.Next();
        Url = $"http://127.0.0.1:{port}/metrics";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Url { get; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A URL on a loopback port nobody listens on.</summary>
    public static string Unreachable() => $"http://127.0.0.1:{FreePort.Next()}/metrics";

    public void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var body = Encoding.UTF8.GetBytes(Interlocked.Increment(ref _requests) == 1 ? _before : _after);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }
}
