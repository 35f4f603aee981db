using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using Xunit;

namespace DeliveryGrains.Tests.Content;

public class TemplateSyntaxTests
{
    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_template_that_does_not_parse_is_told_with_its_line_and_column()
    {
        Assert.False(TemplateSyntax.TryParse("<p>Hello</p>\n<p>{{ firstName }}</p>\n{% if vip %}\n<b>VIP</b>", out _, out var error));

        Assert.Equal(4, error!.Line);
        Assert.StartsWith("line 4, column ", error.ToString());
        Assert.Contains("endif", error.Reason);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void An_unclosed_output_is_placed_where_it_stops()
    {
        Assert.False(TemplateSyntax.TryParse("ab\ncd {{ name", out _, out var error));

        Assert.Equal(2, error!.Line);
        Assert.Equal(11, error.Column);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void Positions_are_in_the_text_as_written_even_after_an_old_form_placeholder()
    {
        // The old form is rewritten longer before parsing; the column is still the operator's, the same as without it.
        Assert.False(TemplateSyntax.TryParse("{{firstName|dear friend}} {% iff %}", out _, out var error));
        Assert.False(TemplateSyntax.TryParse("{{ firstName______1234 }} {% iff %}", out _, out var plain));

        Assert.Equal(1, error!.Line);
        Assert.Equal(plain!.Column, error.Column);
        Assert.InRange(error.Column, 27, 33);
        Assert.Contains("iff", error.Reason);
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_definition_with_a_broken_template_is_refused_naming_field_line_and_column()
    {
        var definition = new DeliveryDefinition("d", Channel.Email, false, TimeSpan.FromDays(1), TimeSpan.FromHours(1), 1, null, true,
            [new Recipient("p", "a@example.test")], null,
            new MtaSettings(MtaKind.Simulated, Content: new MessageContent("Hi {{ firstName", "ok", "<p>\n\n{% for x in y %}</p>")));

        var errors = DeliveryRules.Validate(definition);

        Assert.StartsWith("line 1, column ", Assert.Single(errors["content.subject"]));
        Assert.StartsWith("line 3, column ", Assert.Single(errors["content.html"]));
        Assert.False(errors.ContainsKey("content.text"));
    }

    [Fact]
    [Trait("Rule", "R14.1")]
    public void A_sender_name_is_one_short_line()
    {
        var errors = new Dictionary<string, string>();
        DeliveryRules.ValidateContent(new MessageContent(null, null, null, FromName: "News\r\nBcc: x"), (f, m) => errors[f] = m);

        Assert.Contains("one line", errors["content.fromName"]);
    }
}
