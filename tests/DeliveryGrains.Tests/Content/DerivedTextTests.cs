using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using Xunit;

namespace DeliveryGrains.Tests.Content;

/// <summary>
/// R14.2: the text part rendered from a template derived once from the HTML reads exactly as the
/// text read from each rendered HTML message, for values that could upset the layout.
/// </summary>
public class DerivedTextTests
{
    private static readonly RecipientValues[] Recipients =
    [
        new("p-1", "ann@example.test", new Dictionary<string, string> { ["firstName"] = "Ann & <Bo>", ["city"] = "", ["url"] = "https://ann.test/x?a=1&b=2", ["vip"] = "yes" }),
        new("p-2", "bo@example.test", new Dictionary<string, string> { ["firstName"] = "  Bo \n  Smith\r\n ", ["city"] = "Paris\u00A0Nord", ["url"] = "", ["vip"] = "" }),
        new("p-3", "cy@example.test", new Dictionary<string, string> { ["firstName"] = "{{ not liquid }} {% nor this %}", ["city"] = "</p><h1>x</h1>", ["url"] = "Offer", ["vip"] = "no" }),
        new("p-4", "di@example.test"),
    ];

    public static TheoryData<string> Templates() =>
    [
        "<p>Dear {{ firstName }},</p><p>Your city: {{ city | default: \"none\" }}.</p>",
        "<html><head><title>{{ firstName }}</title><style>p { color: red }</style></head><body><h1>Spring   sale</h1><p>Dear {{ firstName | upcase }},<br>our   <b>best</b> offer.</p><ul><li>One {{ city }}</li><li>{{ city }}</li></ul><p>Bye&nbsp;now</p></body></html>",
        "<p>See <a href=\"https://shop.test/a?x=1&amp;p={{ profileId }}\">the offer</a>, <a href=\"https://shop.test/b\">https://shop.test/b</a>, <a href=\"mailto:help@shop.test\">write</a> or <a href=\"#top\">top</a>.</p><a href=\"https://img.test/\"><img src=\"x.png\" alt=\"Logo of {{ firstName }}\"></a>",
        "<p><a href=\"{{ url }}\">Offer</a> <a href=\"{{ url }}\">{{ url }}</a> <a href=\"{{ unsubscribeUrl }}\">Unsubscribe</a> <a href=\"https://x.test/{{ city }}\">{{ firstName }}</a><a href=\"{{ mirrorPageUrl }}\"></a></p>",
        "{% if vip == \"yes\" %}<p>VIP {{ firstName }}</p>{% else %}<h2>Hello</h2>{% endif %}<p>{% for i in (1..3) %}{{ i }} {% endfor %}</p>{% comment %}<p>{{ gone }}</p>{% endcomment %}",
        "<pre>Code {{ firstName }}\n  kept   as is {{ city }}</pre><p>after {{ firstName }}</p>",
        "<table><tr><td>Item {{ firstName }}</td><td>{{ city }}</td></tr><tr><td>Tea</td><td>3 €</td></tr></table>",
        "<p>&#123;&#123; literal &#125;&#125; and {{ firstName }} and {{ \"}}\" }}</p>",
        "Plain {{firstName|friend}} text, no tags at all. <div>{{city|nowhere}}</div>",
        "<p>{%- if vip != blank -%}\n  <b>{{ vip }}</b>\n{%- endif -%}</p>",
    ];

    [Theory]
    [MemberData(nameof(Templates))]
    [Trait("Rule", "R14.2")]
    public void The_derived_text_reads_as_the_text_of_the_rendered_html(string html)
    {
        var template = ContentTemplate.For(new MessageContent("s", null, html));

        Assert.True(template.DerivesText);
        foreach (var recipient in Recipients)
        {
            var links = new MessageLinks($"https://t.test/u/{recipient.ProfileId}", $"https://t.test/m/{recipient.ProfileId}");
            var rendered = template.Render(recipient, links);
            Assert.Equal(HtmlText.From(rendered.Html!), rendered.Text);
        }
    }

    [Theory]
    [InlineData("<p>{{ firstName | raw }}</p>")]
    [InlineData("<p>{{ firstName | escape }}</p>")]
    [InlineData("<table>{% for i in (1..2) %}<tr><td>{{ i }}</td></tr>{% endfor %}</table>")]
    [InlineData("<p><a {% if vip %}href=\"https://a.test\"{% endif %}>x</a></p>")]
    [Trait("Rule", "R14.2")]
    public void Markup_whose_layout_the_template_cannot_carry_is_read_from_each_rendered_message(string html)
    {
        var template = ContentTemplate.For(new MessageContent("s", null, html));

        Assert.False(template.DerivesText);
        var rendered = template.Render(Recipients[0], MessageLinks.None);
        Assert.Equal(HtmlText.From(rendered.Html!), rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.2")]
    public void A_value_holding_a_layout_mark_is_read_from_its_rendered_html()
    {
        var template = ContentTemplate.For(new MessageContent("s", null, "<p>Hi {{ firstName }}</p><p>end</p>"));
        var marked = new RecipientValues("p-9", "m@example.test", new Dictionary<string, string> { ["firstName"] = "a\uFDD3b" });

        var rendered = template.Render(marked, MessageLinks.None);

        Assert.True(template.DerivesText);
        Assert.Equal(HtmlText.From(rendered.Html!), rendered.Text);
    }
}
