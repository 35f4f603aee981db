using System.Globalization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

/// <summary>The client's pause, resume, stop and contact date (R2, R3.1).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ControlTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    private static string Seed() => Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);

    [Fact]
    [Trait("Rule", "R2")]
    public async Task Pause_resume_and_stop_move_the_delivery_and_a_stopped_one_cannot_resume()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Controlled", "--generate", "50", "--seed", Seed(), "--mta", "External", "--efs", "--confirm")).DeliveryId;

        var paused = await _cli.RunAsync("pause", id);
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Contains($"delivery {id} is Paused", paused.Output);
        Assert.Equal(DeliveryStatus.Paused, (await _cli.ViewAsync(id)).Status);

        var resumed = await _cli.RunAsync("resume", id);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains((await _cli.ViewAsync(id)).Status, new[] { DeliveryStatus.InProgress, DeliveryStatus.Sent });

        var stopped = await _cli.RunAsync("stop", id);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Contains("is Stopped", stopped.Output);

        var again = await _cli.RunAsync("resume", id);
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("stopped for good", Assert.Single(again.Lines));
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    [Trait("Rule", "R2")]
    public async Task Pausing_without_StartDeliveries_names_the_role_and_changes_nothing()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Not yours", "--generate", "5", "--seed", Seed(), "--mta", "External", "--confirm")).DeliveryId;
        var marketer = new Caller("marketer", new HashSet<string> { Roles.PrepareDeliveries });

        var result = await _cli.RunAsAsync(marketer, "pause", id);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("StartDeliveries", Assert.Single(result.Lines));
        Assert.NotEqual(DeliveryStatus.Paused, (await _cli.ViewAsync(id)).Status);
    }

    [Fact]
    [Trait("Rule", "R3.1")]
    public async Task Submit_with_a_contact_date_is_Scheduled_after_confirmation()
    {
        var sendAt = DateTimeOffset.UtcNow.AddHours(2).ToString("O", CultureInfo.InvariantCulture);

        var result = await _cli.RunAsync("submit", "--name", "Later", "--generate", "5", "--seed", Seed(), "--mta", "External", "--send-at", sendAt, "--confirm");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("is Scheduled.", result.Output);
        Assert.Contains("Scheduled: relaying starts at the contact date", result.Output);
        var view = await _cli.ViewAsync(result.DeliveryId);
        Assert.Equal(DeliveryStatus.Scheduled, view.Status);
        Assert.Equal(0, view.Kpis.Sent);
        Assert.Equal(0, (await _cli.RunAsync("stop", result.DeliveryId)).ExitCode);
    }
}

/// <summary>The client's recurring deliveries (R3.3, R3.4).</summary>
[Collection(ClusterCollection.Name)]
public sealed class RecurrenceCommandTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task Submit_with_every_and_count_makes_a_template_whose_executions_list_its_runs()
    {
        var seed = Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);
        var submitted = await _cli.RunAsync("submit", "--name", "Weekly", "--generate", "4", "--seed", seed, "--mta", "External",
            "--every", "01:00:00", "--count", "3", "--confirm");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        await Eventually.Until(() => _cli.Grains.GetGrain<IDeliveryGrain>(submitted.DeliveryId).ListExecutionsAsync(),
            e => e.Count == 1 && e[0].Status == DeliveryStatus.Ready, "the first run prepared", TimeSpan.FromSeconds(10), Cli.PollInterval);
        var listed = await _cli.RunAsync("executions", submitted.DeliveryId);

        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains($"{submitted.DeliveryId}-r0", listed.Output);
        Assert.Contains("1 execution.", listed.Output);
        Assert.Equal(0, (await _cli.RunAsync("stop", submitted.DeliveryId)).ExitCode);
    }

    [Fact]
    [Trait("Rule", "R3.3")]
    public async Task Every_without_count_is_one_line_and_exit_2()
    {
        var result = await _cli.RunAsync("submit", "--name", "Half", "--generate", "4", "--every", "01:00:00");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--every and --count", Assert.Single(result.Lines));
    }
}
