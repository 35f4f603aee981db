using System.Globalization;
using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Client.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LifecycleTests(ClusterFixture fixture)
{
    private readonly Cli _cli = new(fixture);

    private static string Seed() => Cli.UniqueSeed().ToString(CultureInfo.InvariantCulture);

    [Fact]
    [Trait("Rule", "R2.3")]
    public async Task Confirm_of_a_draft_is_one_red_line_and_a_non_zero_exit_and_changes_nothing()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Draft", "--generate", "5", "--seed", Seed())).DeliveryId;

        var result = await _cli.RunAsync("confirm", id);

        Assert.Equal(4, result.ExitCode);
        var line = Assert.Single(result.Lines);
        Assert.Contains("is Draft: prepare it before confirming the send", line);
        Assert.Equal(DeliveryStatus.Draft, (await _cli.ViewAsync(id)).Status);
    }

    [Fact]
    [Trait("Rule", "R2.5")]
    public async Task A_second_confirm_is_refused()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Twice", "--generate", "5", "--seed", Seed(), "--mta", "External", "--confirm")).DeliveryId;

        var again = await _cli.RunAsync("confirm", id);

        Assert.Equal(4, again.ExitCode);
        Assert.Contains("already confirmed", Assert.Single(again.Lines));
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task Confirm_without_the_StartDeliveries_role_names_the_missing_role()
    {
        var marketer = new Caller("marketer", new HashSet<string> { Roles.PrepareDeliveries, Roles.Administration });
        var submitted = await _cli.RunAsAsync(marketer, "submit", "--name", "No start", "--generate", "5", "--seed", Seed(), "--prepare");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        var result = await _cli.RunAsAsync(marketer, "confirm", submitted.DeliveryId);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("needs the role 'StartDeliveries'", Assert.Single(result.Lines));
        Assert.Equal(DeliveryStatus.Ready, (await _cli.ViewAsync(submitted.DeliveryId)).Status);
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task Submit_confirm_without_StartDeliveries_stops_after_the_preparation()
    {
        var marketer = new Caller("marketer", new HashSet<string> { Roles.PrepareDeliveries });

        var result = await _cli.RunAsAsync(marketer, "submit", "--name", "Chained", "--generate", "5", "--seed", Seed(), "--confirm");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("StartDeliveries", result.Lines[^1]);
        Assert.Equal(DeliveryStatus.Ready, (await _cli.ViewAsync(result.DeliveryId)).Status);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R2")]
    public async Task Show_of_an_unknown_delivery_is_not_found()
    {
        var result = await _cli.RunAsync("show", Guid.NewGuid().ToString("N"));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("does not exist", Assert.Single(result.Lines));
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    public async Task Watch_until_settled_on_an_interactive_terminal_draws_the_deployment_block_live()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Live", "--generate", "20", "--seed", Seed(), "--feedback-delay", "00:00:00", "--retry-period", "00:00:00.2", "--confirm")).DeliveryId;

        var result = await _cli.RunAsAsync(Cli.Operator, interactive: true, "watch", id, "--until-settled", "--timeout", "00:00:30");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Deployment", result.Output);
        Assert.Contains("sent (20 / 20)", result.Output);
        Assert.True((await _cli.ViewAsync(id)).Kpis.Settled);
    }

    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R8")]
    public async Task Watch_that_times_out_says_where_the_delivery_stands()
    {
        var id = (await _cli.RunAsync("submit", "--name", "Waiting", "--generate", "3", "--seed", Seed(), "--prepare")).DeliveryId;

        var result = await _cli.RunAsync("watch", id, "--timeout", "00:00:00.5");

        Assert.Equal(6, result.ExitCode);
        Assert.Contains($"delivery {id} is Ready, not yet finished", result.Lines[^1]);
    }
}
