using DeliveryGrains.Silo.Measuring;

namespace DeliveryGrains.Api.Tests;

/// <summary>
/// <c>DeliveryGrains.Silo floor</c>: the stock activation floor, measured in a bare silo of its own
/// (no engine, no dashboard, no HTTP), printed with the option a load run takes.
/// </summary>
public sealed class StockFloorTests
{
    [Fact]
    [Trait("Area", "Operations")]
    [Trait("Rule", "R8.8")]
    public async Task A_bare_silo_measures_the_floor_and_prints_it_per_million_with_the_load_option()
    {
        using var output = new StringWriter();

        var exit = await StockFloor.RunAsync(500, output);

        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Contains("Stock activation floor: 500 grains in", text);
        Assert.Matches(@"s per 1,000,000\.", text);
        Assert.Matches(@"load … --stock-floor \d+\.\d\d", text);
    }

    [Theory]
    [Trait("Area", "Operations")]
    [Trait("Rule", "R8.8")]
    [InlineData(new[] { "floor" }, 1_000_000)]
    [InlineData(new[] { "floor", "--grains", "2500" }, 2_500)]
    public void The_floor_verb_takes_its_grains_or_a_million(string[] args, int grains) =>
        Assert.Equal(grains, StockFloor.Parse(args));

    [Fact]
    [Trait("Area", "Operations")]
    public void Other_verbs_are_not_the_floor() => Assert.Null(StockFloor.Parse(["demo", "--recipients", "5"]));

    [Theory]
    [Trait("Area", "Operations")]
    [InlineData("--grains 'x' is not a number from 1 to 20000000.", "floor", "--grains", "x")]
    [InlineData("--grains '0' is not a number from 1 to 20000000.", "floor", "--grains", "0")]
    [InlineData("floor takes only --grains N (1 to 20000000); '--urls' is not one of its options.", "floor", "--urls", "http://x")]
    [InlineData("--grains needs a number from 1 to 20000000.", "floor", "--grains")]
    public void Bad_options_are_refused_with_one_line_that_says_what_to_give(string expected, params string[] args) =>
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => StockFloor.Parse(args)).Message);
}
