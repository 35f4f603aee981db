using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Tracking;
using Xunit;
using MessageLinks = DeliveryGrains.Content.MessageLinks;

namespace DeliveryGrains.Tests.Tracking;

/// <summary>
/// R13.1: the tracked HTML made from the content's tracked form (rewritten once per content record)
/// is the document the per-message rewrite of the rendered HTML gives, with the same links in the
/// same order, for values that could upset a parse. Compared as parsed documents: the two differ in
/// bytes only where Liquid escapes a value's character (<c>&amp;#x27;</c>) and the serialiser of the
/// per-message road writes it plain (<c>'</c>), which a mail client reads alike. Without Liquid the
/// two are compared byte for byte.
/// </summary>
public class TrackedHtmlTests
{
    private static readonly RecipientValues[] Recipients =
    [
        new("p-1", "ann@example.test", new Dictionary<string, string> { ["firstName"] = "Ann & <Bo> \"O'Neil\" + 1", ["city"] = "", ["url"] = "https://ann.test/x?a=1&b=2", ["vip"] = "yes" }),
        new("p-2", "bo@example.test", new Dictionary<string, string> { ["firstName"] = "\n  Bo \n  Smith\r\n ", ["city"] = "Paris\u00A0Nord\t", ["url"] = "", ["vip"] = "" }),
        new("p-3", "cy@example.test", new Dictionary<string, string> { ["firstName"] = "{{ not liquid }} {% nor this %} amp; #x41;", ["city"] = "</p><h1>x</h1><a href=\"https://evil.test\">y</a>", ["url"] = "Offer", ["vip"] = "no" }),
        new("p-4", "di@example.test", new Dictionary<string, string> { ["firstName"] = "\0 \u0080 \uD83D\uDE00 café", ["city"] = "a=b c", ["url"] = "javascript:x", ["vip"] = " " }),
        new("p-5", "ed@example.test"),
    ];

    /// <summary>Templates and whether they have a tracked form (false: each rendered message is rewritten, as before).</summary>
    public static TheoryData<string, bool> Templates() => new()
    {
        { "<p>Dear {{ firstName }}, see <a href=\"https://shop.test/a?x=1&amp;y=2\">the offer</a> or <a href=\"mailto:help@shop.test\">write</a>.</p>", true },
        { "<html><head><title>{{ firstName }}</title><style>p { color: red }</style></head><body><h1>Sale {{ city | default: \"here\" }}</h1><p><a href=\" https://shop.test/é?q=été#f \">One</a><a data-no-track href=\"https://shop.test/n\">No</a><area href=\"HTTP://map.test/\"><a href=\"#top\">top</a></p><img alt=\"Logo of {{ firstName }}\" title='{{ city }}' src=\"https://img.test/l.png\"></body></html>", true },
        { "<table><tr><td>Item {{ firstName }}</td><td>{{ city }}</td><td><a href=\"https://t.test/1\">1</a></td></tr></table><pre>Code {{ firstName }}\n {{ city }}</pre><p>{{ unsubscribeUrl }} {{ mirrorPageUrl }} {{ profileId }} {{ email }}</p>", true },
        { "<p>&#123;&#123; literal &#125;&#125; and {{ firstName }} and {{ \"}}\" }} {a} { b }</p><script>var a = '{{ firstName }}';</script><textarea>City {{ city }}</textarea>", true },
        { "Plain {{firstName|friend}} text, <a href=\"https://x.test/\">x</a> no body tag. <div>{{city|nowhere}}</div>", true },
        { "<p><a href=\"https://shop.test/?p={{ profileId }}\">Offer</a> <a href=\"{{ unsubscribeUrl }}\">Unsubscribe</a> <a href=\"{{ url }}\">{{ url }}</a></p>", false },
        { "{% if vip == \"yes\" %}<p><a href=\"https://vip.test\">VIP</a> {{ firstName }}</p>{% endif %}<p>{% for i in (1..3) %}<a href=\"https://x.test/{{ i }}\">{{ i }}</a>{% endfor %}</p>", false },
        { "<table>{{ firstName }}<tr><td><a href=\"https://t.test/\">t</a></td></tr></table>", false },
        { "<p title={{ city }}>unquoted</p><a href=\"https://t.test/\">t</a>", false },
        { "<p>a&{{ firstName }} <{{ city }}</p><a href=\"https://t.test/\">t</a>", false },
        { "<pre>{{ firstName }}</pre><a href=\"https://t.test/\">t</a>", false },
        { "<p>{{ firstName | raw }}</p><p>{{- city -}}</p>", false },
    };

    [Theory]
    [MemberData(nameof(Templates))]
    [Trait("Rule", "R13.1")]
    public void The_tracked_form_gives_the_document_and_links_the_per_message_rewrite_gives(string html, bool tracksOnce)
    {
        var template = ContentTemplate.For(new MessageContent("s", null, html, Tracking: true));

        Assert.Equal(tracksOnce, template.TracksOnce);
        foreach (var recipient in Recipients)
        {
            var links = new MessageLinks($"https://t.test/u/{recipient.ProfileId}?a=1&b=2", $"https://t.test/m/{recipient.ProfileId}");
            var (once, onceLinks) = TrackedOnce(template, recipient, links);
            var carriageReturn = recipient.Fields?.Values.Any(v => v.Contains('\r')) == true;
            Assert.Equal(tracksOnce && !carriageReturn, template.Render(recipient, links, new HtmlTracking(Click([]), PixelUrl)).HtmlTracked);
            var (perMessage, perMessageLinks) = RewrittenPerMessage(template, recipient, links);

            Assert.Equal(TrackedHtml.Normalised(perMessage), TrackedHtml.Normalised(once));
            Assert.Equal(perMessageLinks, onceLinks);
            Assert.Equal(LinkRewriter.TrackedLinks(template.Render(recipient, links).Html!), onceLinks.Select(l => l.Url));

            // The link table a click named by index alone redirects by: the same links in the same order.
            Assert.Equal(tracksOnce ? onceLinks.Select(l => l.Url) : [], template.TrackedLinks);
        }
    }

    [Fact]
    [Trait("Rule", "R13.1")]
    public void Html_without_liquid_is_tracked_byte_for_byte_as_the_per_message_rewrite_tracks_it()
    {
        var html = "<html><body>\n<p>Dear friend, <a href=\"https://shop.example/offer/1?p=news&amp;q=1\">Offer 1</a> <a href=\"https://shop.example/%C3%A9\">é</a>&nbsp;&lt;x&gt;</p>\n"
            + "<p><a href=\"mailto:a@b.test\">mail</a> <img src=\"https://img.test/a.png\" alt=\"a &quot;b&quot;\"></p>\n</body></html>";
        var template = ContentTemplate.For(new MessageContent("s", null, html, Tracking: true));
        var recipient = Recipients[0];
        var links = new MessageLinks("https://t.test/u", "https://t.test/m");

        Assert.True(template.TracksOnce);
        Assert.Equal(RewrittenPerMessage(template, recipient, links).Html, TrackedOnce(template, recipient, links).Html);
    }

    [Theory]
    [Trait("Rule", "R13.1")]
    [InlineData("a\uFDDCb\uFDDDc\uFDDB")]
    [InlineData("line\r\nbreak")]
    public void A_value_holding_a_mark_or_a_carriage_return_is_rewritten_from_its_rendered_html(string value)
    {
        var template = ContentTemplate.For(new MessageContent("s", null, "<p>Hi {{ firstName }} <a href=\"https://t.test/\">t</a></p>", Tracking: true));
        var marked = new RecipientValues("p-9", "m@example.test", new Dictionary<string, string> { ["firstName"] = value });
        var links = new MessageLinks("https://t.test/u", "https://t.test/m");

        var rendered = template.Render(marked, links, new HtmlTracking(Click([]), PixelUrl));

        Assert.True(template.TracksOnce);
        Assert.False(rendered.HtmlTracked);
        Assert.Equal(RewrittenPerMessage(template, marked, links).Html, TrackedOnce(template, marked, links).Html);
    }

    /// <summary>A click URL with every character the attribute serialiser escapes, noting each link it is asked for.</summary>
    private static Func<int, string, string> Click(List<(int Index, string Url)> asked) => (i, url) =>
    {
        asked.Add((i, url));
        return $"https://t.test/c/{i}?u={Uri.EscapeDataString(url)}&x=\"<>'\u00A0é";
    };

    private const string PixelUrl = "https://t.test/o?a=1&b=\"2\"";

    private static (string Html, List<(int Index, string Url)> Links) TrackedOnce(ContentTemplate template, RecipientValues recipient, MessageLinks links)
    {
        var asked = new List<(int, string)>();
        var rendered = template.Render(recipient, links, new HtmlTracking(Click(asked), PixelUrl));
        return (rendered.HtmlTracked ? rendered.Html! : LinkRewriter.Rewrite(rendered.Html!, Click(asked), PixelUrl), asked);
    }

    private static (string Html, List<(int Index, string Url)> Links) RewrittenPerMessage(ContentTemplate template, RecipientValues recipient, MessageLinks links)
    {
        var asked = new List<(int, string)>();
        var rendered = template.Render(recipient, links);
        Assert.False(rendered.HtmlTracked);
        return (LinkRewriter.Rewrite(rendered.Html!, Click(asked), PixelUrl), asked);
    }
}
