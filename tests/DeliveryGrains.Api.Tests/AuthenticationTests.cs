using System.Net;

namespace DeliveryGrains.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class AuthenticationTests(ApiHostFixture host)
{
    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task A_call_without_a_key_is_refused_with_401_problem_details()
    {
        var problem = await host.Client(null).GetAsync("/api/deliveries/any").ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString());
    }

    [Fact]
    [Trait("Rule", "R1.2")]
    public async Task An_unknown_key_is_refused_with_401()
    {
        await host.Client("not-a-key").PostJsonAsync("/api/deliveries", Bodies.Delivery()).ExpectAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task Confirming_without_StartDeliveries_is_403_naming_the_role_and_changes_nothing()
    {
        var marketer = host.Client(ApiHostFixture.MarketerKey);
        var id = await marketer.CreateAsync(Bodies.Delivery());
        await marketer.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var problem = await marketer.PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Contains("StartDeliveries", problem.GetProperty("detail").GetString());
        Assert.Equal("StartDeliveries", problem.GetProperty("missingRole").GetString());
        var view = await marketer.ViewAsync(id);
        Assert.Equal("Ready", view.Status());
        Assert.Equal(0, view.Kpi("sent"));
    }

    [Fact]
    [Trait("Rule", "R1.1")]
    public async Task A_StartDeliveries_user_confirms_a_delivery_prepared_by_someone_else()
    {
        var marketer = host.Client(ApiHostFixture.MarketerKey);
        var id = await marketer.CreateAsync(Bodies.Delivery());
        await marketer.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        var view = await host.Client(ApiHostFixture.SupervisorKey).PostEmptyAsync($"/api/deliveries/{id}/confirm").ExpectAsync(HttpStatusCode.Accepted);

        Assert.Equal("InProgress", view.Status());
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Creating_needs_PrepareDeliveries_and_feedback_needs_MtaFeedback()
    {
        var supervisor = host.Client(ApiHostFixture.SupervisorKey);
        var createProblem = await supervisor.PostJsonAsync("/api/deliveries", Bodies.Delivery()).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Contains("PrepareDeliveries", createProblem.GetProperty("detail").GetString());

        var feedbackProblem = await host.Client(ApiHostFixture.MarketerKey)
            .PostJsonAsync("/api/mta/feedback", Array.Empty<object>()).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Contains("MtaFeedback", feedbackProblem.GetProperty("detail").GetString());
    }

    [Fact]
    [Trait("Rule", "R1")]
    public async Task Logs_are_readable_by_the_creator_and_by_Administration_only()
    {
        var marketer = host.Client(ApiHostFixture.MarketerKey);
        var id = await marketer.CreateAsync(Bodies.Delivery());
        await marketer.PostEmptyAsync($"/api/deliveries/{id}/prepare").ExpectAsync(HttpStatusCode.OK);

        await marketer.GetAsync($"/api/deliveries/{id}/logs").ExpectAsync(HttpStatusCode.OK);
        await host.Client(ApiHostFixture.AdminKey).GetAsync($"/api/deliveries/{id}/logs").ExpectAsync(HttpStatusCode.OK);
        var problem = await host.Client(ApiHostFixture.OtherMarketerKey).GetAsync($"/api/deliveries/{id}/exclusions").ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Contains("Administration", problem.GetProperty("detail").GetString());
    }
}
