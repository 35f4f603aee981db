using DeliveryGrains.Content;
using Xunit;

namespace DeliveryGrains.Tests.Content;

public class SmsLengthTests
{
    [Theory]
    [Trait("Rule", "R14.5")]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(160, 1)]
    [InlineData(161, 2)]
    [InlineData(306, 2)]
    [InlineData(307, 3)]
    public void Gsm7_holds_160_alone_and_153_per_part_when_split(int length, int segments)
    {
        var sms = SmsLength.Of(new string('a', length));

        Assert.Equal(new SmsLength(length, segments, SmsLength.Gsm7), sms);
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public void Extension_characters_count_two()
    {
        var sms = SmsLength.Of(new string('a', 158) + "€");

        Assert.Equal(new SmsLength(160, 1, SmsLength.Gsm7), sms);
        Assert.Equal(2, SmsLength.Of(new string('a', 159) + "{").Segments);
    }

    [Theory]
    [Trait("Rule", "R14.5")]
    [InlineData(70, 1)]
    [InlineData(71, 2)]
    [InlineData(134, 2)]
    [InlineData(135, 3)]
    public void Ucs2_holds_70_alone_and_67_per_part_when_split(int length, int segments)
    {
        var sms = SmsLength.Of("ж" + new string('a', length - 1));

        Assert.Equal(new SmsLength(length, segments, SmsLength.Ucs2), sms);
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public void An_emoji_takes_two_code_units_and_makes_the_whole_text_ucs2()
    {
        var sms = SmsLength.Of(new string('a', 68) + "😀");

        Assert.Equal(new SmsLength(70, 1, SmsLength.Ucs2), sms);
        Assert.Equal(2, SmsLength.Of(new string('a', 69) + "😀").Segments);
    }

    [Fact]
    [Trait("Rule", "R14.5")]
    public void Accented_letters_of_the_gsm_alphabet_stay_gsm7()
    {
        Assert.Equal(SmsLength.Gsm7, SmsLength.Of("Café à Zürich, ñ ¿? £5 @ 10:00").Encoding);
        Assert.Equal(SmsLength.Ucs2, SmsLength.Of("Ça coûte 5 €").Encoding);
    }
}
