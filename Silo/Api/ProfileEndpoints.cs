using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Profiles;
using DeliveryGrains.Silo.Security;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace DeliveryGrains.Silo.Api;

public static class ProfileEndpoints
{
    public static IEndpointRouteBuilder MapProfilesAndAddresses(this IEndpointRouteBuilder app)
    {
        var readers = Policies.Role(Roles.Administration, Roles.PrepareDeliveries);
        app.MapGet("/api/profiles/{profileId}/history", async (string profileId, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IProfileHistoryGrain>(profileId).GetHistoryAsync()))
            .WithTags("Profiles")
            .RequireAuthorization(readers)
            .ValidateRouteIds();

        var addresses = app.MapGroup("/api/addresses").WithTags("Addresses").ValidateRouteIds();
        addresses.MapGet("/", async (string? status, string? q, string? after, string? before, string? limit, IGrainFactory grains) =>
        {
            var search = AddressList.Parse(status, q, after, before, limit, out var errors);
            return errors.Count > 0
                ? (IResult)Problems.Invalid(errors)
                : TypedResults.Ok(await AddressList.SearchAsync(grains, search));
        }).RequireAuthorization(readers).WithSummary("The quarantined and denylisted addresses (R9), searched and paged in address order.");
        addresses.MapPost("/release", async (HttpRequest http, IGrainFactory grains, IOptions<JsonOptions> json, CancellationToken cancellationToken) =>
        {
            var body = await JsonBody.ReadAsync<ReleaseRequest>(http, json.Value.SerializerOptions, cancellationToken);
            if (body.Value is not { } request)
            {
                return (IResult)Problems.Invalid(body.Errors.ToDictionary());
            }

            var normalized = AddressList.ParseRelease(request.Addresses, out var errors);
            return errors.Count > 0
                ? Problems.Invalid(errors)
                : TypedResults.Ok(new ReleaseResponse(await AddressList.ReleaseAsync(grains, normalized)));
        }).Accepts<ReleaseRequest>("application/json").RequireAuthorization(Policies.Role(Roles.Administration))
            .WithSummary("R9.6 in bulk: releases every listed address, or none when one of them is not an address.");
        addresses.MapGet("/{address}", async (string address, IGrainFactory grains) =>
        {
            var normalized = Normalize(address);
            return TypedResults.Ok(await Shard(grains, normalized).GetAsync(normalized));
        }).RequireAuthorization(readers);
        addresses.MapPost("/{address}/release", async (string address, IGrainFactory grains) =>
        {
            var normalized = Normalize(address);
            return TypedResults.Ok(await Shard(grains, normalized).ReleaseAsync(normalized));
        }).RequireAuthorization(Policies.Role(Roles.Administration));
        return app;
    }

    /// <summary>Phone numbers start with '+'; everything else is an email address (domain part lower-cased).</summary>
    private static string Normalize(string address) => AddressSyntax.Normalize(address, AddressSyntax.ChannelOf(address));

    private static IAddressBookGrain Shard(IGrainFactory grains, string normalized) =>
        grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(normalized));
}
