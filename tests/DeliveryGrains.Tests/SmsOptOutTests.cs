using DeliveryGrains.Addresses;

namespace DeliveryGrains.Tests;

/// <summary>R11.2: which inbound texts are a STOP.</summary>
public sealed class SmsOptOutTests
{
    [Theory]
    [Trait("Rule", "R11.2")]
    [InlineData("STOP")]
    [InlineData("stop")]
    [InlineData("  Stop \n")]
    [InlineData("STOPALL")]
    [InlineData("Unsubscribe")]
    [InlineData("cancel")]
    [InlineData("END")]
    [InlineData("\tquit")]
    public void An_opt_out_keyword_alone_in_any_case_is_a_stop(string text) => Assert.True(SmsOptOut.IsOptOut(text));

    [Theory]
    [Trait("Rule", "R11.2")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("START")]
    [InlineData("HELP")]
    [InlineData("don't stop")]
    [InlineData("stop it please")]
    [InlineData("STOP!")]
    [InlineData("S T O P")]
    public void Any_other_text_is_no_stop(string? text) => Assert.False(SmsOptOut.IsOptOut(text));

    [Fact]
    [Trait("Rule", "R11.2")]
    public void The_keywords_are_the_six_usual_ones() =>
        Assert.Equal(["CANCEL", "END", "QUIT", "STOP", "STOPALL", "UNSUBSCRIBE"], SmsOptOut.Keywords.Order(StringComparer.Ordinal));
}
