using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Profiles;
using DeliveryGrains.Silo.Security;

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
