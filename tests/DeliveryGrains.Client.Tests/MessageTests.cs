using System.Globalization;
using System.Text.RegularExpressions;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Deliveries;
using Spectre.Console.Testing;

namespace DeliveryGrains.Client.Tests;

/// <summary>
/// The client speaks to people: refusals say what was wrong in the user's terms, every bad value at
/// once, the valid values or bounds and what to do, exit code 2, never a .NET type; output says what
/// happens next.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class MessageTests(ClusterFixture fixture) : IDisposable
{
    private static readonly string[] DotNetWords = ["Nullable", "`1", "Int32", "TimeSpan", "DateTimeOffset", "Failed to convert", "Exception", "DataAnnotation", "DeliveryGrains."];

    private readonly Cli _cli = new(fixture);
    private readonly string _folder = Directory.CreateTempSubdirectory("delivery-messages-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Every_value_of_the_wrong_kind_is_named_at_once_with_an_example_of_a_good_one()
    {
        var result = await _cli.RunAsync(
            "submit", "--name", "x", "--generate", "5", "--send-at", "soon", "--validity", "later", "--channel", "Fax", "--every", "1.00:00:00", "--count", "many");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains("--send-at: 'soon' is not a date and time; write it like 2027-03-01T09:00:00Z", line);
        Assert.Contains("--validity: 'later' is not a duration", line);
        Assert.Contains("--channel: 'Fax' is not one of Email or Sms.", line);
        Assert.Contains("--count: 'many' is not a whole number; use 1 to 1000 runs.", line);
        Assert.Contains("See 'delivery submit --help'.", line);
        AssertNoDotNet(result);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task A_number_too_large_for_any_count_is_refused_with_its_bounds()
    {
        var result = await _cli.RunAsync("submit", "--name", "x", "--generate", "1000000000000");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--generate: 1000000000000 is out of range; use 1 to 10,000,000 recipients.", Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task An_unknown_command_says_where_the_list_is()
    {
        var result = await _cli.RunAsync("sumbit", "--name", "x");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Run 'delivery --help'", Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.1")]
    public async Task A_target_with_a_header_and_no_recipient_is_refused_before_anything_is_created()
    {
        var csv = await CsvAsync("empty.csv", "profileId,address");

        var result = await _cli.RunAsync("submit", "--name", "Empty", "--target", csv, "--prepare", "--confirm");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
        [
            "empty.csv: 1 problem; fix it and run the command again.",
            "empty.csv: the file has its header but no recipient; add one line per recipient below it, e.g. 'p-1,ann@example.test'.",
        ], result.Lines);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.1")]
    public async Task Every_duplicate_profile_is_listed_by_line_with_the_line_it_repeats()
    {
        var csv = await CsvAsync("dupes.csv", "profileId,address", "p-1,a@example.test", "p-2,b@example.test", "p-1,c@example.test", "p-2,d@example.test", "p-1,e@example.test");

        var result = await _cli.RunAsync("submit", "--name", "Dupes", "--target", csv);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
        [
            "dupes.csv: 3 problems; fix them and run the command again.",
            "dupes.csv:4: profile 'p-1' is already on line 2; a profile gets one message, so keep one of the two.",
            "dupes.csv:5: profile 'p-2' is already on line 3; a profile gets one message, so keep one of the two.",
            "dupes.csv:6: profile 'p-1' is already on line 2; a profile gets one message, so keep one of the two.",
        ], result.Lines);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.1")]
    public async Task Addresses_preparation_will_exclude_are_told_by_line_and_the_delivery_is_created()
    {
        var p = "n" + Guid.NewGuid().ToString("N")[..8];
        var csv = await CsvAsync("notes.csv", "profileId,address", $"{p}-1,ann.{p}@example.test", $"{p}-2,not-an-address", $"{p}-3,");

        var result = await _cli.RunAsync("submit", "--name", "Notes", "--target", csv, "--prepare");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("notes.csv:3: 'not-an-address' is not an email address; preparation excludes it as InvalidAddress.", result.Lines);
        Assert.Contains($"notes.csv:4: profile '{p}-3' has no address; preparation excludes it as AddressEmpty.", result.Lines);
        Assert.Equal(1, result.Row("To deliver"));
        Assert.Contains(result.Lines, l => l.StartsWith($"Next: 'delivery confirm {result.DeliveryId}'", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2.2")]
    [Trait("Rule", "R11.2")]
    public async Task Phone_numbers_are_read_as_people_write_them_and_national_ones_with_the_country_code()
    {
        var p = "e" + Guid.NewGuid().ToString("N")[..8];
        var digits = Random.Shared.NextInt64(100_000_000, 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        var national = Random.Shared.NextInt64(100_000_000, 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        var csv = await CsvAsync("phones.csv", "profileId,address",
            $"{p}-1,+1 {digits[..3]} {digits[3..6]} {digits[6..]}",
            $"{p}-2,\"+1 ({digits[..3]}) {digits[3..6]}-{digits[6..]}0\"",
            $"{p}-3,+1.{digits[..3]}.{digits[3..6]}.{digits[6..]}1",
            $"{p}-4,0{national[..1]} {national[1..3]} {national[3..5]} {national[5..7]} {national[7..]}");

        var result = await _cli.RunAsync("submit", "--name", "Phones", "--channel", "Sms", "--country", "33", "--target", csv, "--prepare");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(4, result.Row("To deliver"));
        Assert.Equal(0, result.Row("Excluded: InvalidAddress"));
        var log = await _cli.RunAsync("logs", result.DeliveryId);
        Assert.Contains($"+33{national}", log.Output);
        Assert.Contains($"+1{digits}", log.Output);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R11.2")]
    public async Task A_national_number_without_a_country_code_says_how_to_give_one()
    {
        var p = "c" + Guid.NewGuid().ToString("N")[..8];
        var csv = await CsvAsync("national.csv", "profileId,address", $"{p}-1,06 12 34 56 78");

        var result = await _cli.RunAsync("submit", "--name", "National", "--channel", "Sms", "--target", csv);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.StartsWith("national.csv:2: '06 12 34 56 78' is not a phone number in international form", StringComparison.Ordinal)
            && l.Contains("give --country", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Version_names_the_client_and_the_engine()
    {
        var result = await _cli.RunAsync("--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+.* \(Orleans 10\.\d+\.\d+, \.NET 10\.", Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R4")]
    public async Task On_a_narrow_terminal_ids_and_addresses_are_never_cut()
    {
        var p = "w" + Guid.NewGuid().ToString("N")[..8];
        var address = $"a.rather.long.address.{p}@subdomain.example.test";
        var csv = await CsvAsync("wide.csv", "profileId,address", $"{p}-profile-with-a-long-id,{address}");
        var id = (await _cli.RunAsync("submit", "--name", "Narrow", "--target", csv, "--mta", "External", "--confirm")).DeliveryId;

        var result = await _cli.RunAtWidthAsync(60, "logs", id);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.Contains(address, StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains($"{p}-profile-with-a-long-id", StringComparison.Ordinal));
        Assert.Equal(0, (await _cli.RunAsync("stop", id)).ExitCode);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Instants_are_local_with_their_zone_and_durations_are_for_people()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Times", "--generate", "3", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture),
            "--mta", "External", "--validity", "1.12:00:00", "--retry-period", "00:30:00", "--confirm")).DeliveryId;

        var result = await _cli.RunAsync("show", id);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(LocalInstant(), result.Output);
        Assert.DoesNotMatch(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+", result.Output);
        Assert.Contains("1 d 12 h", result.Output);
        Assert.Contains("5 every 30 min", result.Output);
        Assert.Equal(0, (await _cli.RunAsync("stop", id)).ExitCode);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R3.1")]
    public async Task A_contact_date_months_ahead_is_Scheduled_and_says_when_it_starts()
    {
        // More than 49.7 days ahead: beyond what one timer can wait.
        var sendAt = new DateTimeOffset(DateTimeOffset.UtcNow.Date.AddDays(120).AddHours(9), TimeSpan.Zero);
        var instant = sendAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        var submitted = await _cli.RunAsync("submit", "--name", "Spring", "--generate", "3", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture),
            "--mta", "External", "--send-at", instant, "--confirm");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = submitted.DeliveryId;
        Assert.Contains($"delivery {id} is Scheduled.", submitted.Output);
        Assert.Contains($"Scheduled: relaying starts at the contact date, {Format.Instant(sendAt)} (in ", submitted.Output);
        Assert.Equal(DeliveryStatus.Scheduled, (await _cli.ViewAsync(id)).Status);

        var again = await _cli.RunAsync("confirm", id);
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("Scheduled", Assert.Single(again.Lines));
        Assert.Equal(0, (await _cli.RunAsync("stop", id)).ExitCode);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task A_recipient_the_rules_refuse_is_told_by_its_file_line()
    {
        var csv = await CsvAsync("long.csv", "profileId,address", "p-1,a@example.test", $"p-2,{new string('a', 400)}@example.test", $"{new string('p', 300)},b@example.test");

        var result = await _cli.RunAsync("submit", "--name", "Long", "--target", csv);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("long.csv: 2 problems; fix them and run the command again.", result.Lines[0]);
        Assert.StartsWith("long.csv:3: address: Keep an address to 320 characters or fewer.", result.Lines[1]);
        Assert.StartsWith("long.csv:4: profileId: Keep a profileId to 200 characters or fewer.", result.Lines[2]);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R3.3")]
    public async Task A_recurring_delivery_says_which_run_waits_for_confirmation_and_when_the_next_starts()
    {
        var submitted = await _cli.RunAsync("submit", "--name", "Weekly", "--generate", "5", "--seed", Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture),
            "--mta", "External", "--every", "7.00:00:00", "--count", "3", "--confirm");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = submitted.DeliveryId;
        Assert.DoesNotContain("valid until -", submitted.Output);
        Assert.Contains($"recurring delivery {id} has started its schedule.", submitted.Output);
        Assert.Contains($"run {id}-r0 is prepared and waits in Ready for 'delivery confirm {id}-r0'", submitted.Output);
        Assert.Contains($"the next run, {id}-r1, starts at ", submitted.Output);
        Assert.Contains("(in 7 d)", submitted.Output);

        var confirmed = await _cli.RunAsync("confirm", $"{id}-r0");
        Assert.True(confirmed.ExitCode == 0, confirmed.ToString());
        Assert.Equal(0, (await _cli.RunAsync("stop", id)).ExitCode);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R3.3")]
    public async Task Preparing_a_recurring_delivery_counts_what_a_plain_preparation_would()
    {
        var seed = Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);
        var plain = await _cli.RunAsync("submit", "--name", "Plain", "--generate", "10", "--seed", seed, "--mta", "Simulated",
            "--hard-bounce-rate", "1", "--soft-bounce-rate", "0", "--feedback-delay", "00:00:00", "--validity", "00:00:01", "--confirm", "--watch", "--timeout", "00:00:30");
        Assert.True(plain.ExitCode == 0, plain.ToString());

        // Every address of that seed is now quarantined (hard bounces): a template of the same target says so.
        var template = await _cli.RunAsync("submit", "--name", "Template", "--generate", "10", "--seed", seed, "--every", "1.00:00:00", "--count", "2", "--prepare");

        Assert.True(template.ExitCode == 0, template.ToString());
        Assert.Contains("Preparation check (recurring)", template.Output);
        Assert.Equal(0, template.Row("To deliver"));
        Assert.Equal(10, template.Row("Excluded: QuarantinedAddress"));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8.7")]
    public void The_stats_verdict_names_what_changed_by_how_much_and_why()
    {
        var now = DateTimeOffset.UtcNow;
        var running = Kpis.Of(10, 10, 8, 2, 0, 0, 0, 0, now);

        Assert.Equal("The recount equals the running KPIs: nothing to repair.", KpiVerdict.Describe(KpiVerdict.Changes(running, running), settled: true));

        var tracking = KpiVerdict.Describe(KpiVerdict.Changes(running, Kpis.Of(10, 10, 8, 2, 5, 2, 0, 0, now)), settled: true);
        Assert.Equal(
            "Only opens and clicks changed: Opens 0 → 5 (+5), Clicks 0 → 2 (+2). They are published on the silo's tracking refresh period (default 1 h); the recount published them now.",
            tracking);

        var drift = KpiVerdict.Describe(KpiVerdict.Changes(running, Kpis.Of(10, 10, 9, 1, 0, 0, 0, 0, now)), settled: true);
        Assert.Equal("The recount repaired drift in the running KPIs: Delivered 8 → 9 (+1), Bounces + errors 2 → 1 (−1).", drift);

        var table = new TestConsole().Width(120);
        table.Write(Tables.KpiComparison(running, Kpis.Of(10, 10, 8, 2, 5, 2, 0, 0, now)));
        Assert.DoesNotContain("differs", table.Output);
        Assert.Contains("+5", table.Output);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public void Durations_read_as_people_say_them()
    {
        Assert.Equal("3 d 12 h", Format.Duration(TimeSpan.FromDays(3.5)));
        Assert.Equal("1 h", Format.Duration(TimeSpan.FromHours(1)));
        Assert.Equal("2 min 30 s", Format.Duration(TimeSpan.FromSeconds(150)));
        Assert.Equal("0.5 s", Format.Duration(TimeSpan.FromMilliseconds(500)));
        Assert.Equal("in 4 min", Format.Relative(DateTimeOffset.UnixEpoch.AddMinutes(4), DateTimeOffset.UnixEpoch));
    }

    private async Task<string> CsvAsync(string name, params string[] lines)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }

    private static void AssertNoDotNet(CliResult result)
    {
        foreach (var word in DotNetWords)
        {
            Assert.False(result.Output.Contains(word, StringComparison.Ordinal), $"'{word}' reached the user: {result.Output}");
        }
    }

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|[+-]\d\d:\d\d)")]
    private static partial Regex LocalInstant();
}
