using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using Xunit;

namespace DeliveryGrains.Tests.Content;

public class ContentTemplateTests
{
    private static readonly RecipientValues Ann = new("p-1", "ann@example.test", new Dictionary<string, string>
    {
        ["firstName"] = "Ann & <Bo>",
        ["city"] = "",
        ["points"] = "1250",
    });

    private static RenderedContent Render(string? subject, string? text, string? html, RecipientValues? recipient = null, MessageLinks? links = null) =>
        ContentTemplate.For(new MessageContent(subject, text, html)).Render(recipient ?? Ann, links ?? MessageLinks.None);

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Fields_profile_and_address_are_variables_whatever_their_case()
    {
        var rendered = Render("For {{ firstName }}", "{{ profileId }} {{ address }} {{ email }} {{ FIRSTNAME }}", null);

        Assert.Equal("For Ann & <Bo>", rendered.Subject);
        Assert.Equal("p-1 ann@example.test ann@example.test Ann & <Bo>", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Liquid_filters_conditions_and_loops_work()
    {
        var rendered = Render(
            "s",
            "{{ firstName | upcase }}|{{ points | plus: 50 }}|{% if city == blank %}no city{% endif %}|{% for i in (1..3) %}{{ i }}{% endfor %}|{{ city | default: \"Paris\" }}",
            null);

        Assert.Equal("ANN & <BO>|1300|no city|123|Paris", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void The_old_name_and_fallback_form_keeps_working()
    {
        var rendered = Render("Hi {{firstName|there}}", "{{city|friend}}, {{ nickname | dear reader }}, {{ firstName|upcase }}, {{missing|}}!", null);

        Assert.Equal("Hi Ann & <Bo>", rendered.Subject);
        Assert.Equal("friend, dear reader, ANN & <BO>, !", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Values_are_html_encoded_in_the_html_part_only()
    {
        var rendered = Render("{{ firstName }}", "{{ firstName }}", "<p>{{ firstName }} é {{ nickname|Zoë & co }}</p>");

        Assert.Equal("Ann & <Bo>", rendered.Subject);
        Assert.Equal("Ann & <Bo>", rendered.Text);
        Assert.Equal("<p>Ann &amp; &lt;Bo&gt; é Zoë &amp; co</p>", rendered.Html);
    }

    [Fact]
    [Trait("Rule", "R14.3")]
    public void Unsubscribe_and_mirror_page_links_are_always_there()
    {
        var rendered = Render("s", "{{ unsubscribeUrl }} {{ mirrorPageUrl }}", null, links: new MessageLinks("https://u.test/x?a=1", "https://m.test/y"));

        Assert.Equal("https://u.test/x?a=1 https://m.test/y", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_field_cannot_pass_for_the_address()
    {
        var rendered = Render("s", "{{ address }}", null, new RecipientValues("p", "real@example.test", new Dictionary<string, string> { ["address"] = "fake@example.test" }));

        Assert.Equal("real@example.test", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_template_that_loops_for_ever_fails_its_message_with_a_reason()
    {
        var content = new MessageContent("s", "{% for i in (1..50000) %}{% for j in (1..50000) %}{% endfor %}{% endfor %}", null);

        var failure = Assert.Throws<TemplateRenderException>(() => ContentTemplate.For(content).Render(Ann, MessageLinks.None));

        Assert.Equal("content.text", failure.Field);
        Assert.Contains("steps", failure.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Output_is_bounded()
    {
        var content = new MessageContent("s", null, "{% for i in (1..3000) %}{% for j in (1..60) %}xxxxxxxxxxxxxxx{% endfor %}{% endfor %}");

        var failure = Assert.Throws<TemplateRenderException>(() => ContentTemplate.For(content).Render(Ann, MessageLinks.None));

        Assert.Equal("content.html", failure.Field);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Templates_cannot_read_files()
    {
        Assert.False(TemplateSyntax.TryParse("{% include '/etc/passwd' %}", out _, out var include));
        Assert.False(TemplateSyntax.TryParse("{% render 'x' %}", out _, out var render));

        Assert.Equal(1, include!.Line);
        Assert.NotNull(render);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void The_default_content_is_used_for_absent_parts()
    {
        var rendered = ContentTemplate.For(null).Render(new RecipientValues("p", "a@example.test"), MessageLinks.None);

        Assert.Equal(MessageContent.Default.Subject, rendered.Subject);
        Assert.Null(rendered.Html);
        Assert.Contains("Hello there,", rendered.Text);
        Assert.Contains("a@example.test", rendered.Text);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_subject_stays_one_line_whatever_a_field_holds()
    {
        var rendered = Render("Hi {{ firstName }}", "t", null, new RecipientValues("p", "a@example.test", new Dictionary<string, string> { ["firstName"] = "A\r\nBcc: x@example.test" }));

        Assert.DoesNotContain('\n', rendered.Subject);
        Assert.DoesNotContain('\r', rendered.Subject);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void One_content_is_parsed_once()
    {
        var content = new MessageContent("s {{ firstName }}", "t", null);

        Assert.Same(ContentTemplate.For(content), ContentTemplate.For(content));
    }

    [Fact]
    [Trait("Rule", "R14.2")]
    public void Html_without_text_gets_a_text_part_made_from_the_rendered_html()
    {
        var rendered = Render("s", null, "<p>Hello {{ firstName }}</p><p><a href=\"https://shop.test/o?id={{ profileId }}\">See the offer</a></p>");

        Assert.Equal("Hello Ann & <Bo>\n\nSee the offer (https://shop.test/o?id=p-1)\n", rendered.Text);
    }
}
