using System.Text;
using BenchmarkDotNet.Attributes;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Tracking;
using MimeKit;

namespace DeliveryGrains.Benchmarks;

/// <summary>
/// R13.1 on the SMTP hot path: one message of the load run's 20 KB HTML (a link in every paragraph,
/// about 105) built and written as MIME, untracked, tracked from the content's tracked form (made
/// once), and tracked by rewriting each rendered message (what a template the tracked form cannot
/// carry still costs, and what every tracked message cost before).
/// </summary>
[MemoryDiagnoser]
public class TrackingBenchmarks
{
    private const int Recipients = 256;
    private readonly SmtpMessageFactory _factory = new(MailboxAddress.Parse("News <news@example.com>"), "bounces.example.com");
    private readonly LinkSigner _signer = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), "http://127.0.0.1:8280");
    private OutboundMessage[] _untracked = null!;
    private OutboundMessage[] _trackedOnce = null!;
    private OutboundMessage[] _trackedPerMessage = null!;

    [GlobalSetup]
    public void Setup()
    {
        var html = LoadHtml(20_000);
        _untracked = Messages(new MessageContent("News for friend", null, html, Tracking: false));
        _trackedOnce = Messages(new MessageContent("News for friend", null, html, Tracking: true));

        // A Liquid tag shapes the document: such a template has no tracked form and is rewritten per message.
        _trackedPerMessage = Messages(new MessageContent("News for friend", null, html.Replace("</body>", "{% if true %}{% endif %}</body>", StringComparison.Ordinal), Tracking: true));
        Console.WriteLine($"// MIME bytes a message: untracked {Size(_untracked[0])}, tracked {Size(_trackedOnce[0])}");
        var small = LoadHtml(2_000);
        Console.WriteLine($"// MIME bytes of a --message-bytes 2000 message: untracked {Size(Messages(new MessageContent("News for friend", null, small, Tracking: false))[0])}, tracked {Size(Messages(new MessageContent("News for friend", null, small, Tracking: true))[0])}");

        // A load run's ids are longer (a GUID's 32 hex digits, g7-NNNNNN, a log deep in its partition) and are in every click URL.
        var loadRun = new OutboundMessage("5f0c1e2d3a4b49c8a7d6e5f4a3b2c1d0", 3, 123_456, "g7-654321", "user1@example.test", Channel.Email, 1, false,
            new MtaSettings(MtaKind.Smtp, Content: new MessageContent("News for friend", null, html, Tracking: true)));
        Console.WriteLine($"// MIME bytes with a load run's ids, tracked: 20 KB {Size(loadRun)}, 2,000 {Size(loadRun with { Mta = new MtaSettings(MtaKind.Smtp, Content: new MessageContent("News for friend", null, small, Tracking: true)) })}");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Recipients)]
    public long Untracked() => Write(_untracked);

    [Benchmark(OperationsPerInvoke = Recipients)]
    public long TrackedOnce() => Write(_trackedOnce);

    [Benchmark(OperationsPerInvoke = Recipients)]
    public long TrackedPerMessage() => Write(_trackedPerMessage);

    private long Write(OutboundMessage[] messages)
    {
        var size = 0L;
        foreach (var m in messages)
        {
            size += Size(m);
        }

        return size;
    }

    private long Size(OutboundMessage m)
    {
        using var counter = new CountingStream();
        _factory.Build(m, DateTimeOffset.UnixEpoch, _signer).Message.WriteTo(counter);
        return counter.Length;
    }

    private static OutboundMessage[] Messages(MessageContent content)
    {
        var mta = new MtaSettings(MtaKind.Smtp, Content: content);
        return [.. Enumerable.Range(0, Recipients).Select(i => new OutboundMessage("d-0123456789", 0, i, $"p-{i}", $"user{i}@example.test", Channel.Email, 1, false, mta))];
    }

    /// <summary>The HTML of <c>load --content Html --message-bytes N</c>: a paragraph with a link, over and over.</summary>
    private static string LoadHtml(int bytes)
    {
        var html = new StringBuilder("<html><body>\n");
        for (var p = 0; html.Length < bytes; p++)
        {
            var f = p % 10;
            html.Append("<p>Dear friend, this paragraph tells you about our offers in some detail, as a newsletter does. ")
                .Append("<a href=\"https://shop.example/offer/").Append(f).Append("?p=newsletter\">Offer ").Append(f).Append("</a></p>\n");
        }

        return html.Append("</body></html>\n").ToString();
    }

    /// <summary>Counts what is written, as a socket would take it, keeping nothing.</summary>
    private sealed class CountingStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Position;

        public override long Position { get; set; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Position += count;
    }
}
