using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace DeliveryGrains.Client.Load;

/// <summary>The SMTP sink of a <c>load --mta Smtp</c> run: parsed from HOST:PORT and checked to greet before the run.</summary>
public static class SmtpSink
{
    public static (string Host, int Port)? Parse(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? (value[..colon], port)
            : null;
    }

    /// <summary>The server's greeting line, or null when nothing answers within five seconds.</summary>
    public static async Task<string?> GreetingAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(host, port, timeout.Token);
            using var reader = new StreamReader(tcp.GetStream(), Encoding.ASCII);
            var line = await reader.ReadLineAsync(timeout.Token);
            await tcp.GetStream().WriteAsync("QUIT\r\n"u8.ToArray(), timeout.Token);
            return line;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
