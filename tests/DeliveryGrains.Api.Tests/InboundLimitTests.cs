using System.Net.Sockets;
using System.Text;

namespace DeliveryGrains.Api.Tests;

/// <summary>The inbound listener's size limit (Mta:Inbound:MaxMessageBytes).</summary>
[Collection(ApiCollection.Name)]
public sealed class InboundLimitTests(ApiHostFixture host)
{
    [Fact, Trait("Rule", "R13.5")]
    public async Task A_message_declared_over_the_limit_is_refused_with_552_before_its_data_is_sent()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", host.InboundPort);
        using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };

        Assert.StartsWith("220", await reader.ReadLineAsync());
        await writer.WriteLineAsync("EHLO isp.example.net");
        var extensions = new List<string>();
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            extensions.Add(line);
            if (line.StartsWith("250 ", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.Contains(extensions, e => e[4..].StartsWith("SIZE 10000000", StringComparison.Ordinal));
        await writer.WriteLineAsync("MAIL FROM:<fbl@isp.example.net> SIZE=11000000");
        Assert.StartsWith("552", await reader.ReadLineAsync());
    }
}
