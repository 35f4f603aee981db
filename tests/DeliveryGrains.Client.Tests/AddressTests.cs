using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;

namespace DeliveryGrains.Client.Tests;

/// <summary><c>address ADDRESS</c> and <c>release-address ADDRESS</c> (R9.6).</summary>
[Collection(ClusterCollection.Name)]
public sealed class AddressTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    private IAddressBookGrain Book(string normalized) => _cli.Grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(normalized));

    private Task QuarantineAsync(string normalized) =>
        Book(normalized).RecordAsync([new AddressEvent(normalized, AddressEventKind.HardBounce, FailureReason.UserUnknown, DateTimeOffset.UtcNow)]);

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R2.2")]
    public async Task Release_address_makes_a_quarantined_address_Valid_whatever_the_case_of_its_domain()
    {
        var address = Unique.Email("Released");
        await QuarantineAsync(address);

        var result = await _cli.RunAsync("release-address", address.Replace("@example.test", "@EXAMPLE.Test", StringComparison.Ordinal));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Released {address}: Quarantine → Valid; later preparations include it again.", result.Output);
        Assert.Contains(result.Lines, l => l.Contains("│ Status", StringComparison.Ordinal) && l.Contains("Valid", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("Excluded at preparation", StringComparison.Ordinal) && l.Contains("no", StringComparison.Ordinal));
        Assert.Equal(AddressRecord.ValidAddress(address), await Book(address).GetAsync(address));
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R11.2")]
    public async Task A_stopped_number_is_shown_as_a_phone_number_and_released_from_the_denylist()
    {
        var number = Unique.Phone();
        await Book(number).OptOutAsync(number, DateTimeOffset.UtcNow);

        var shown = await _cli.RunAsync("address", number);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains(shown.Lines, l => l.Contains("│ Status", StringComparison.Ordinal) && l.Contains("OnDenylist", StringComparison.Ordinal));
        Assert.DoesNotContain("not a valid", shown.Output, StringComparison.Ordinal);

        var released = await _cli.RunAsync("release-address", number);

        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Contains($"Released {number}: OnDenylist → Valid", released.Output);
        Assert.Equal(AddressStatus.Valid, (await Book(number).GetAsync(number)).Status);
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    public async Task Releasing_an_address_without_history_says_there_was_nothing_to_release()
    {
        var address = Unique.Email("clean");

        var result = await _cli.RunAsync("release-address", address);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{address} has no quarantine history; nothing to release.", result.Output);
    }

    [Fact]
    [Trait("Rule", "R9.6")]
    [Trait("Rule", "R1")]
    public async Task Release_needs_Administration_and_changes_nothing_without_it()
    {
        var address = Unique.Email("kept");
        await QuarantineAsync(address);
        var marketer = new Caller("marketer", new HashSet<string> { Roles.PrepareDeliveries, Roles.StartDeliveries });

        var result = await _cli.RunAsAsync(marketer, "release-address", address);

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains("Releasing an address needs the role 'Administration'", line);
        Assert.Equal(AddressStatus.Quarantine, (await Book(address).GetAsync(address)).Status);
    }

    [Theory]
    [Trait("Area", "Client")]
    [Trait("Rule", "R9.6")]
    [InlineData("Give an email address or an E.164 phone number.", "release-address", " ")]
    [InlineData("ADDRESS", "release-address")]
    [InlineData("--channel must be Email or Sms, not 'Fax'.", "release-address", "x@example.test", "--channel", "Fax")]
    [InlineData("--channel must be Email or Sms, not 'Fax'.", "address", "x@example.test", "--channel", "Fax")]
    public async Task A_release_without_a_usable_address_is_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, Assert.Single(result.Lines));
    }
}
