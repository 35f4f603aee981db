using System.Diagnostics;
using System.Net;
using DeliveryGrains.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DeliveryGrains.Durable.Tests;

[Collection(DurableCollection.Name)]
public sealed class RestartTests(PostgresServer server)
{
    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "A delivery, its logs and KPIs survive a silo restart")]
    public async Task A_delivery_its_logs_and_KPIs_read_back_the_same_from_a_new_silo_on_the_same_database()
    {
        var database = await server.CreateDatabaseAsync("restart");
        string id;
        System.Text.Json.JsonElement before;
        await using (var first = await DurableHost.StartAsync(database))
        {
            using var admin = first.Admin();
            id = await admin.StartDeliveryAsync(recipients: 4, validity: "3.12:00:00", emailFeedbackService: false);
            await admin.UntilAsync(id, v => v.Kpi("sent") == 4);
            await admin.PostJsonAsync("/api/mta/feedback", new[] { Api.Event(id, "p-0", "HardBounce", "UserUnknown") }).ExpectAsync(HttpStatusCode.Accepted);
            before = await admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1);
            Assert.True(first.Services.GetRequiredService<PostgresGrainStorage>().RowsWritten > 0);
            await first.StopAsync();
        }

        await using var second = await DurableHost.StartAsync(database);
        using var again = second.Admin();
        var after = await again.ViewAsync(id);

        Assert.Equal(before.Status(), after.Status());
        Assert.Equal(before.GetProperty("kpis").ToString(), after.GetProperty("kpis").ToString());
        var log = await again.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Failed", log.GetProperty("status").GetString());
        Assert.Equal("Hard", log.GetProperty("failureType").GetString());
        Assert.Equal("UserUnknown", log.GetProperty("failureReason").GetString());
        var logs = await again.GetAsync($"/api/deliveries/{id}/logs").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(4, logs.GetProperty("items").GetArrayLength());
        var sent = await again.GetAsync($"/api/deliveries/{id}/logs/p-3").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Sent", sent.GetProperty("status").GetString());
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R7.3")]
    [Trait("Rule", "The validity reminder fires after a silo restart")]
    public async Task The_validity_reminder_ends_the_delivery_on_a_new_silo_without_any_call_waking_it()
    {
        var database = await server.CreateDatabaseAsync("reminder");
        string id;
        await using (var first = await DurableHost.StartAsync(database))
        {
            using var admin = first.Admin();
            id = await admin.StartDeliveryAsync(recipients: 3, validity: "00:00:05", emailFeedbackService: true);
            await admin.UntilAsync(id, v => v.Kpi("sent") == 3 && v.Kpi("pending") == 3);
            await first.StopAsync();
        }

        Assert.Equal(1, await ValidityRemindersAsync(database, id));
        await using var second = await DurableHost.StartAsync(database);

        // Nothing calls the delivery: only its reminder can wake it, and finishing drops the reminder.
        var clock = Stopwatch.StartNew();
        while (await ValidityRemindersAsync(database, id) > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "The validity reminder did not end the delivery within 30 s of the restart.");
            await Task.Delay(100);
        }

        using var again = second.Admin();
        var finished = await again.UntilAsync(id, v => v.Status() == "Finished");
        Assert.Equal(0, finished.Kpi("pending"));
        Assert.Equal(3, finished.Kpi("bouncesAndErrors"));
    }

    private static async Task<long> ValidityRemindersAsync(string connectionString, string deliveryId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM reminder WHERE reminder_name = 'validity' AND grain_id LIKE '%' || $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deliveryId });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
