using DeliveryGrains.Tracking;

namespace DeliveryGrains.Tests.Tracking;

public sealed class LinkRewriterTests
{
    private static string Rewrite(string html) => LinkRewriter.Rewrite(html, (i, url) => $"https://t.test/c/{i}?u={Uri.EscapeDataString(url)}", "https://t.test/o");

    [Fact, Trait("Rule", "R13.1")]
    public void Http_and_https_links_are_numbered_in_order_and_the_others_are_left_as_written()
    {
        const string html =
            "<p>Hi</p><a href=\"https://a.example/x?q=1&amp;r=2#f\">A</a>"
            + "<a href=\"mailto:me@example.test\">M</a><a href=\"tel:+15550001\">T</a><a href=\"#top\">Top</a>"
            + "<a href=\"/relative\">R</a><a data-no-track href=\"https://skip.example/\">S</a>"
            + "<a href=\" HTTP://b.example/ \">B</a><map><area href=\"https://c.example/\"></map><a name=\"top\">no href</a>";

        var tracked = Rewrite(html);

        Assert.Contains("href=\"https://t.test/c/0?u=https%3A%2F%2Fa.example%2Fx%3Fq%3D1%26r%3D2%23f\"", tracked);
        Assert.Contains("href=\"mailto:me@example.test\"", tracked);
        Assert.Contains("href=\"tel:+15550001\"", tracked);
        Assert.Contains("href=\"#top\"", tracked);
        Assert.Contains("href=\"/relative\"", tracked);
        Assert.Contains("href=\"https://skip.example/\"", tracked);
        Assert.Contains("href=\"https://t.test/c/1?u=HTTP%3A%2F%2Fb.example%2F\"", tracked);
        Assert.Contains("href=\"https://t.test/c/2?u=https%3A%2F%2Fc.example%2F\"", tracked);
        Assert.EndsWith("<img src=\"https://t.test/o\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">", tracked);
        Assert.Equal(["https://a.example/x?q=1&r=2#f", "HTTP://b.example/", "https://c.example/"], LinkRewriter.TrackedLinks(html));
    }

    [Fact, Trait("Rule", "R13.1")]
    public void A_whole_document_stays_a_document_with_the_pixel_at_the_end_of_its_body()
    {
        var tracked = Rewrite("<!DOCTYPE html><html><head><title>T</title></head><body><p>x</p></body></html>");
        Assert.StartsWith("<!DOCTYPE html><html><head><title>T</title></head><body><p>x</p><img src=\"https://t.test/o\"", tracked);
        Assert.EndsWith("</body></html>", tracked);
    }

    [Fact, Trait("Rule", "R13.2")]
    public void A_redirect_carries_the_same_url_in_ascii()
    {
        Assert.Equal("https://a.example/x?q=1&r=%2F#frag", LinkRewriter.ToHeaderValue("https://a.example/x?q=1&r=%2F#frag"));
        Assert.Equal("https://a.example/caf%C3%A9?q=%C3%A9t%C3%A9#%F0%9F%98%80", LinkRewriter.ToHeaderValue("https://a.example/café?q=été#😀"));
        Assert.Equal("https://xn--caf-dma.example:8443/p", LinkRewriter.ToHeaderValue("https://café.example:8443/p"));
        Assert.Equal("https://café.example/é?x=ü#f", Uri.UnescapeDataString(LinkRewriter.ToHeaderValue("https://café.example/é?x=ü#f").Replace("xn--caf-dma", "café", StringComparison.Ordinal)));
    }
}
