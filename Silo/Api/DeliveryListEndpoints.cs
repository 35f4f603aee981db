using System.Globalization;
using DeliveryGrains.Deliveries;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryGrains.Silo.Api;

/// <summary>The reads behind the console: the deliveries list and a delivery's KPI timeline (any authenticated user).</summary>
public static class DeliveryListEndpoints
{
    public const int MaxSearchLength = 200;

    public static IEndpointRouteBuilder MapDeliveryList(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/deliveries").WithTags("Deliveries").RequireAuthorization();
        group.MapGet("/", ListAsync)
            .WithSummary("Deliveries, newest first, filtered by status, channel and a part of the name; cursor paging.");
        group.MapGet("/{id}/timeline", async (string id, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IDeliveryGrain>(id).GetTimelineAsync()))
            .WithSummary("The delivery's KPIs over time: one point a second while relaying, coarser after, a few thousand at most.");
        return app;
    }

    private static async Task<Results<Ok<DeliveryListPage>, ValidationProblem>> ListAsync(
        string? status, string? channel, string? q, string? after, string? limit, string? sort, IGrainFactory grains)
    {
        var query = Parse(status, channel, q, after, limit, out var errors, sort);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return TypedResults.Ok(await grains.GetGrain<IDeliveryListGrain>(0).ListAsync(query));
    }

    /// <summary>The list's query values, each checked; <paramref name="errors"/> names every bad one.</summary>
    public static DeliveryListQuery Parse(string? status, string? channel, string? q, string? after, string? limit, out Dictionary<string, string[]> errors, string? sort = null)
    {
        errors = [];
        var order = ParseEnum<DeliverySort>("sort", sort, "sort order", errors) ?? DeliverySort.Newest;
        var wantedStatus = ParseEnum<DeliveryStatus>("status", status, "delivery status", errors);
        var wantedChannel = ParseEnum<Channel>("channel", channel, "channel", errors);
        if (q is { Length: > MaxSearchLength })
        {
            errors["q"] = [$"Search with at most {MaxSearchLength} characters of the name."];
        }

        long? cursor = null;
        if (!string.IsNullOrEmpty(after))
        {
            if (long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                cursor = parsed;
            }
            else
            {
                errors["after"] = [$"'{after}' is not a cursor of this list; pass the 'next' value of the previous page."];
            }
        }

        var pageSize = DeliveryListQuery.DefaultLimit;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!long.TryParse(limit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var asked))
            {
                errors["limit"] = [$"'{limit}' is not a whole number; ask for 1 to {DeliveryListQuery.MaxLimit} deliveries per page, e.g. limit=50."];
            }
            else if (asked is < 1 or > DeliveryListQuery.MaxLimit)
            {
                errors["limit"] = [$"{asked} is out of range: ask for 1 to {DeliveryListQuery.MaxLimit} deliveries per page."];
            }
            else
            {
                pageSize = (int)asked;
            }
        }

        return new DeliveryListQuery(wantedStatus, wantedChannel, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), cursor, pageSize, order);
    }

    private static T? ParseEnum<T>(string field, string? text, string what, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!text.Any(char.IsAsciiDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
        {
            return parsed;
        }

        errors[field] = [$"'{text}' is not a {what}; use {JsonShape.Names(typeof(T))}, or leave '{field}' out for every one."];
        return null;
    }
}
