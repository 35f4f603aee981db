using DeliveryGrains.Content;
using Xunit;

namespace DeliveryGrains.Tests.Content;

public class HtmlTextTests
{
    [Fact]
    [Trait("Rule", "R14.2")]
    public void Paragraphs_headings_lists_and_breaks_read_as_text()
    {
        var text = HtmlText.From("""
            <html><head><title>T</title><style>p { color: red }</style></head>
            <body><h1>Spring   sale</h1>
            <p>Dear Ann,<br>our   <b>best</b> offer.</p>
            <ul><li>One</li><li>Two</li></ul>
            <script>alert(1)</script>
            <p>Bye&nbsp;now</p></body></html>
            """);

        Assert.Equal("Spring sale\n\nDear Ann,\nour best offer.\n\n- One\n- Two\n\nBye now\n", text);
    }

    [Fact]
    [Trait("Rule", "R14.2")]
    public void Links_are_written_out_after_their_words()
    {
        var text = HtmlText.From("""<p>See <a href="https://shop.test/a?x=1&amp;y=2">the offer</a>, <a href="https://shop.test/b">https://shop.test/b</a>, <a href="mailto:help@shop.test">write</a> or <a href="#top">top</a>.</p><a href="https://img.test/"><img src="x.png" alt="Logo"></a>""");

        Assert.Equal("See the offer (https://shop.test/a?x=1&y=2), https://shop.test/b, write (help@shop.test) or top.\n\nLogo (https://img.test/)\n", text);
    }

    [Fact]
    [Trait("Rule", "R14.2")]
    public void Table_cells_sit_side_by_side()
    {
        var text = HtmlText.From("<table><tr><td>Item</td><td>Price</td></tr><tr><td>Tea</td><td>3 €</td></tr></table>");

        Assert.Equal("Item Price\nTea 3 €\n", text);
    }
}
