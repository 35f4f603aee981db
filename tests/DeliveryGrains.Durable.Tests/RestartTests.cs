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
    [Trait("Rule", "R4")]
    [Trait("Rule", "R8")]
    public async Task A_delivery_its_logs_and_KPIs_read_back_the_same_from_a_new_silo_on_the_same_database()
    {
        var database = await server.CreateDatabaseAsync("restart");
        string id;
        System.Text.Json.JsonElement before;
        await using (var first = await DurableHost.StartAsync(database))
        {
            using var admin = first.Admin();
            id = await admin.StartAsync(Bodies.Delivery(4));
            await admin.UntilAsync(id, v => v.Kpi("sent") == 4);
            await admin.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-0", "HardBounce", "UserUnknown") }).ExpectAsync(HttpStatusCode.Accepted);
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
    [Trait("Rule", "R4")]
    [Trait("Rule", "R8.7")]
    public async Task Every_log_of_a_partition_stored_in_several_chunks_reads_back_exactly_from_a_new_silo()
    {
        // One partition of 600 recipients: three chunks, the last one short, each changed by its own event.
        var database = await server.CreateDatabaseAsync("chunks");
        var settings = new Dictionary<string, string?> { ["DeliveryGrains:PartitionSize"] = "600" };
        string id;
        string logsBefore;
        System.Text.Json.JsonElement before;
        await using (var first = await DurableHost.StartAsync(database, settings))
        {
            using var admin = first.Admin();
            id = await admin.StartAsync(Bodies.Delivery(600));
            await admin.UntilAsync(id, v => v.Kpi("sent") == 600);
            await admin.PostJsonAsync("/api/mta/feedback", new[]
            {
                Bodies.Event(id, "p-0", "HardBounce", "UserUnknown"),
                Bodies.Event(id, "p-300", "Complaint"),
                Bodies.Event(id, "p-599", "SoftBounce", "MailboxFull"),
            }).ExpectAsync(HttpStatusCode.Accepted);
            before = await admin.UntilAsync(id, v => v.Kpi("bouncesAndErrors") == 1 && v.Kpi("complaints") == 1 && v.Kpi("awaitingRetry") == 1);
            logsBefore = (await admin.GetAsync($"/api/deliveries/{id}/logs?limit=1000").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").ToString();
            await first.StopAsync();
        }

        await using var second = await DurableHost.StartAsync(database, settings);
        using var again = second.Admin();
        var logsAfter = (await again.GetAsync($"/api/deliveries/{id}/logs?limit=1000").ExpectAsync(HttpStatusCode.OK)).GetProperty("items");

        Assert.Equal(600, logsAfter.GetArrayLength());
        Assert.Equal(logsBefore, logsAfter.ToString());
        var view = await again.ViewAsync(id);
        var recount = await again.PostEmptyAsync($"/api/deliveries/{id}/compute-stats").ExpectAsync(HttpStatusCode.OK);
        var kpis = recount.TryGetProperty("kpis", out var inner) ? inner : recount;
        foreach (var kpi in new[] { "sent", "delivered", "bouncesAndErrors", "complaints", "awaitingRetry" })
        {
            Assert.Equal(before.Kpi(kpi), view.Kpi(kpi));
            Assert.Equal(before.Kpi(kpi), kpis.GetProperty(kpi).GetInt64());
        }

        Assert.Equal(3L, await CountAsync(database, "SELECT count(*) FROM grain_chunk WHERE state_name = 'progress'"));
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R7.3")]
    public async Task The_validity_reminder_ends_the_delivery_on_a_new_silo_without_any_call_waking_it()
    {
        var database = await server.CreateDatabaseAsync("reminder");
        string id;
        await using (var first = await DurableHost.StartAsync(database))
        {
            using var admin = first.Admin();
            id = await admin.StartAsync(Bodies.Delivery(3, b => (b["validityPeriod"], b["emailFeedbackService"]) = ("00:00:05", true)));
            await admin.UntilAsync(id, v => v.Kpi("sent") == 3 && v.Kpi("pending") == 3);
            await first.StopAsync();
        }

        Assert.Equal(1, await RemindersAsync(database, id, "validity"));
        await using var second = await DurableHost.StartAsync(database);

        // Nothing calls the delivery: only its reminder can wake it, and finishing drops the reminder.
        await UntilNoReminderAsync(database, id, "validity", "The validity reminder did not end the delivery within 90 s of the restart.");

        using var again = second.Admin();
        var finished = await again.UntilAsync(id, v => v.Status() == "Finished");
        Assert.Equal(0, finished.Kpi("pending"));
        Assert.Equal(3, finished.Kpi("bouncesAndErrors"));
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R3.1")]
    public async Task A_scheduled_delivery_starts_at_its_contact_date_on_a_new_silo()
    {
        var database = await server.CreateDatabaseAsync("schedule");
        DateTimeOffset sendAt;
        string id;
        await using (var first = await DurableHost.StartAsync(database))
        {
            // Counted from a started silo: its start-up time on a loaded machine must not eat the margin.
            // A create-prepare-confirm slower than the margin (the machine is shared) lets the contact
            // date pass before the confirm, which rightly starts at once: then the test tries again with
            // a wider margin, so the delivery is Scheduled when the silo stops, by construction.
            using var admin = first.Admin();
            var margin = TimeSpan.FromSeconds(6);
            while (true)
            {
                sendAt = DateTimeOffset.UtcNow + margin;
                id = await admin.StartAsync(Bodies.Delivery(3, b => b["sendAt"] = sendAt));
                var scheduled = await admin.ViewAsync(id);
                if (scheduled.Status() == "Scheduled")
                {
                    break;
                }

                Assert.True(DateTimeOffset.UtcNow > sendAt && margin < TimeSpan.FromMinutes(2),
                    $"A delivery confirmed before its contact date {sendAt:O} did not wait for it: {scheduled}");
                margin *= 3;
            }

            await first.StopAsync();
        }

        Assert.Equal(1, await RemindersAsync(database, id, "start"));
        await using var second = await DurableHost.StartAsync(database);

        // Only the start reminder can wake the delivery on the new silo; starting drops it.
        await UntilNoReminderAsync(database, id, "start", "The start reminder did not start the delivery within 90 s of the restart.");
        using var again = second.Admin();
        var started = await again.UntilAsync(id, v => v.Kpi("sent") == 3);
        Assert.True(DateTimeOffset.UtcNow >= sendAt, "relaying started before the contact date");
        Assert.Contains(started.Status(), new[] { "InProgress", "Sent" });
    }

    [Fact]
    [Trait("Area", "Durable")]
    [Trait("Rule", "R7.1")]
    public async Task A_scheduled_retry_is_relayed_after_a_silo_restart()
    {
        var database = await server.CreateDatabaseAsync("retry");
        string id;
        await using (var first = await DurableHost.StartAsync(database))
        {
            using var admin = first.Admin();
            id = await admin.StartAsync(Bodies.Delivery(2, b => (b["emailFeedbackService"], b["retryPeriod"]) = (true, "00:00:04")));
            await admin.UntilAsync(id, v => v.Kpi("sent") == 2);
            await admin.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-0", "SoftBounce", "MailboxFull") }).ExpectAsync(HttpStatusCode.Accepted);
            await admin.UntilAsync(id, v => v.Kpi("awaitingRetry") == 1);
            await first.StopAsync();
        }

        Assert.Equal(1, await RemindersAsync(database, $"{id}/p-0", "retry"));
        await using var second = await DurableHost.StartAsync(database);

        await UntilNoReminderAsync(database, $"{id}/p-0", "retry", "The retry reminder did not relay the retry within 90 s of the restart.");
        using var again = second.Admin();
        var log = await again.GetAsync($"/api/deliveries/{id}/logs/p-0").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, log.GetProperty("attempts").GetInt32());
        await again.PostJsonAsync("/api/mta/feedback", new[] { Bodies.Event(id, "p-0", "Delivered") }).ExpectAsync(HttpStatusCode.Accepted);
        var view = await again.UntilAsync(id, v => v.Kpi("awaitingRetry") == 0 && v.Kpi("delivered") == 1);
        Assert.Equal(0, view.Kpi("bouncesAndErrors"));
    }

    // Generous: a new silo's reminder service loads its ring range before the first tick, and the
    // machine the tests share can be loaded many times over.
    private static Task UntilNoReminderAsync(string connectionString, string grainKeyEnd, string reminderName, string failure) =>
        Eventually.Until(() => RemindersAsync(connectionString, grainKeyEnd, reminderName), n => n == 0, failure, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100));

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> RemindersAsync(string connectionString, string grainKeyEnd, string reminderName)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM reminder WHERE reminder_name = $1 AND grain_id LIKE '%' || $2", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reminderName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainKeyEnd });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
