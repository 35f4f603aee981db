using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Tests.Infrastructure;

namespace DeliveryGrains.Tests;

/// <summary>
/// R2.1/R2.2: a generated target is prepared in slices without making its recipients in the
/// delivery. It must come out exactly as the same recipients written in a list would: the same
/// partitions in the same order, the same normal form, the same exclusions.
/// </summary>
public sealed class TargetResolutionTests
{
    private const int PartitionSize = 64;

    public static TheoryData<Channel, bool> Targets => new()
    {
        { Channel.Email, false },
        { Channel.Email, true },
        { Channel.Sms, false },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    [Trait("Rule", "R2.1")]
    [Trait("Rule", "R2.2")]
    public void A_generated_target_is_spread_as_the_same_recipients_listed_would_be(Channel channel, bool scenario)
    {
        // An upper-case domain: the slices must hold the address in normal form, as a listed target does.
        var generated = TestData.Definition(generated: new GeneratedTarget(1_000, 77, "Example.TEST"), channel: channel,
            mta: new MtaSettings(MtaKind.Simulated, Scenario: scenario ? Scenario("A.test", "b.test", "c.TEST") : null));

        var resolution = AssertSameSlices(generated, Listed(generated));

        Assert.True(resolution.PartitionCount > 1, "the target spans several partitions");
    }

    [Fact]
    [Trait("Rule", "R2.2")]
    public void A_generated_address_over_254_characters_is_excluded_as_invalid_as_a_listed_one_would_be()
    {
        // user{i}.s5@ + 245 characters: 254 characters with a one-digit index, 255 from index 10 on.
        var domain = string.Join('.', new[] { 48, 48, 48, 48, 44 }.Select(n => new string('d', n))) + ".test";
        var generated = TestData.Definition(generated: new GeneratedTarget(120, 5, domain));
        Assert.Equal(245, domain.Length);

        var resolution = AssertSameSlices(generated, Listed(generated));

        Assert.Equal(110, resolution.Exclusions.Count);
        Assert.All(resolution.Exclusions, e => Assert.Equal(ExclusionReason.InvalidAddress, e.Reason));
        Assert.Equal($"user10.s5@{domain}", resolution.Exclusions[0].Address);
        Assert.Equal(10, Enumerable.Range(0, resolution.PartitionCount).Sum(p => resolution.Candidates(p).Count));
    }

    [Fact]
    [Trait("Rule", "R2.1")]
    public void A_generated_slice_finds_each_member_by_its_profile_id_and_nothing_else()
    {
        var slice = new GeneratedSlice(new GeneratedTarget(1_000, -7, "example.test"), Channel.Email, null, [3, 70, 700, 999]);
        var members = new GeneratedMembers(slice);

        Assert.Equal([0, 1, 2, 3], members.Select(m => members.IndexOf(m.ProfileId)));
        Assert.Equal(["g-7-3", "g-7-70", "g-7-700", "g-7-999"], members.Select(m => m.ProfileId));
        Assert.All(
            new[] { "g-7-4", "g-7-070", "g-7-", "g7-3", "g-77-3", "g-7-3x", "g-7--3", "x", "", "g-7-99999999999" },
            id => Assert.Equal(-1, members.IndexOf(id)));
    }

    [Theory]
    [Trait("Rule", "R4")]
    [InlineData(Channel.Email)]
    [InlineData(Channel.Sms)]
    public void A_generated_member_is_found_by_a_part_of_its_profile_id_or_address_as_the_made_recipient_is(Channel channel)
    {
        // The log search matches generated members without making them; it must say what the made recipient says.
        var slice = new GeneratedSlice(new GeneratedTarget(100_000, -7, "Example.TEST"), channel, null, [0, 3, 70, 700, 9_999, 99_999]);
        var members = new GeneratedMembers(slice);
        var texts = new[] { "g-7-70", "G-7-7", "-7-99999", "user700", "USER3.S-7@", "@example.test", "example.TEST", "+99900007", "0009999", "s-7", "x", "g-7-700.", "9999@" };
        for (var i = 0; i < members.Count; i++)
        {
            var made = members[i];
            foreach (var text in texts)
            {
                var expected = new DeliveryGrains.Logs.LogFilter(null, null, null, text).MatchesRecipient(made.ProfileId, made.Address);
                Assert.True(expected == members.Mentions(i, text), $"'{text}' in {made.ProfileId} / {made.Address}: expected {expected}");
            }
        }
    }

    [Theory]
    [Trait("Rule", "R4")]
    [InlineData(Channel.Email, false, 7)]
    [InlineData(Channel.Email, true, 12)]
    [InlineData(Channel.Sms, false, 31)]
    [InlineData(Channel.Sms, false, -120_345)]
    public void Any_text_finds_the_generated_members_whose_made_strings_contain_it(Channel channel, bool scenario, int seed)
    {
        // The search works out from each member's number where the text can lie; every way it can lie (in the fixed
        // parts, across them into the digits, inside the digits, zero padding included) must agree with the strings.
        var random = new Random(seed);
        int[] numbers = [.. new[] { 0, 1, 5, 9, 10, 12, 99, 100, 101, 1_234, 12_345, 123_450, 1_234_599, 9_999_999, 10_000_000, 12_345_678, int.MaxValue - 1 }
            .Concat(Enumerable.Range(0, 300).Select(_ => random.Next(0, random.Next(2) == 0 ? 200_000 : int.MaxValue)))
            .Distinct().Order()];
        var slice = new GeneratedSlice(new GeneratedTarget(int.MaxValue, seed, "Mail.Example.TEST"), channel,
            scenario ? Scenario("A.test", "b2.test", "c.TEST") : null, numbers);
        var members = new GeneratedMembers(slice);
        var made = members.ToArray();
        var texts = new List<string> { "1", "0", "00", "12345", "2345", "-", ".", "@", "g", "user", "s", "+", "zz", "é", "K", "\u212A" };
        for (var k = 0; k < 400; k++)
        {
            var source = made[random.Next(made.Length)];
            var written = random.Next(2) == 0 ? source.ProfileId : source.Address!;
            var from = random.Next(written.Length);
            var text = written.Substring(from, random.Next(1, written.Length - from + 1));
            texts.Add(random.Next(3) == 0 ? text.ToUpperInvariant() : text);
            texts.Add(random.Next(1, 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Every short piece of a few members' strings, and of the same strings with a zero written before the number
        // (which must find nothing new: "user05" is in no member's address).
        foreach (var i in new[] { 0, 5, 12, 12_345 })
        {
            var number = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var member = made[Array.IndexOf(numbers, i)];
            foreach (var written in new[] { member.ProfileId, member.Address!, member.ProfileId.Replace(number, "0" + number), member.Address!.Replace(number, "0" + number) })
            {
                for (var from = 0; from < written.Length; from++)
                {
                    for (var length = 1; length <= Math.Min(14, written.Length - from); length++)
                    {
                        texts.Add(written.Substring(from, length));
                    }
                }
            }
        }

        foreach (var text in texts.Distinct())
        {
            var filter = new DeliveryGrains.Logs.LogFilter(null, null, null, text);
            for (var i = 0; i < made.Length; i++)
            {
                var expected = filter.MatchesRecipient(made[i].ProfileId, made[i].Address);
                Assert.True(expected == members.Mentions(i, text), $"'{text}' in {made[i].ProfileId} / {made[i].Address}: expected {expected}");
            }
        }
    }

    private static TargetResolution AssertSameSlices(DeliveryDefinition generated, DeliveryDefinition listed)
    {
        var fromGenerated = TargetResolution.Resolve(generated, PartitionSize);
        var fromList = TargetResolution.Resolve(listed, PartitionSize);

        Assert.Equal(fromList.Exclusions, fromGenerated.Exclusions);
        Assert.Equal(fromList.PartitionCount, fromGenerated.PartitionCount);
        for (var p = 0; p < fromList.PartitionCount; p++)
        {
            Assert.Equal(fromList.Candidates(p), fromGenerated.Candidates(p));
            Assert.NotNull(fromGenerated.PlanFor("d", p).Generated);
            Assert.Empty(fromGenerated.PlanFor("d", p).Candidates);
        }

        return fromGenerated;
    }

    /// <summary>The same delivery with its generated recipients written out as a list, as the target made them before normalization.</summary>
    private static DeliveryDefinition Listed(DeliveryDefinition generated)
    {
        var target = generated.GeneratedTarget!;
        var picker = generated.Mta.Scenario is { } scenario && generated.Channel == Channel.Email ? new ScenarioDomainPicker(scenario) : null;
        var recipients = Enumerable.Range(0, target.Count)
            .Select(i => TargetResolution.GeneratedRecipient(picker is null ? target : target with { Domain = picker.DomainOf(i) }, i, generated.Channel))
            .ToList();
        return generated with { GeneratedTarget = null, Recipients = recipients };
    }

    private static SimulatorScenario Scenario(params string[] domains) =>
        new("test", [.. domains.Select((d, n) => new ScenarioDomain(d, n + 1.0, null, null, null, null, null, null, null))]);
}
