using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// The ids a path carries (<c>{id}</c>, <c>{profileId}</c>, <c>{address}</c>) are grain keys: a blank
/// one, one too long or one holding '/' names nothing and is answered 400 before any grain is asked.
/// </summary>
public static class RouteIds
{
    /// <summary>The longest id a path may carry: a delivery id with its run or period suffix, a profile id or an address.</summary>
    public const int MaxLength = DeliveryRules.MaxAddressLength;

    private static readonly string[] Names = ["id", "profileId", "address"];

    public static TBuilder ValidateRouteIds<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            Problem(context.HttpContext.Request.RouteValues) is { } errors ? Problems.Invalid(errors) : await next(context));

    /// <summary>Every bad id of the path, by its name; null when they are all fine.</summary>
    public static Dictionary<string, string[]>? Problem(RouteValueDictionary values)
    {
        Dictionary<string, string[]>? errors = null;
        foreach (var name in Names)
        {
            if (!values.TryGetValue(name, out var raw))
            {
                continue;
            }

            var value = raw as string ?? "";
            var message = value switch
            {
                _ when string.IsNullOrWhiteSpace(value) => $"The {Words(name)} in the path is blank; give the {Words(name)} itself.",
                { Length: > MaxLength } => $"The {Words(name)} in the path has {value.Length} characters; an id has at most {MaxLength}.",
                _ when name != "address" && value.Contains('/') => $"The {Words(name)} in the path cannot contain '/'.",
                _ when DeliveryRules.HasControlCharacter(value) => $"The {Words(name)} in the path holds a control character; give the {Words(name)} itself.",
                _ when name == "id" && value.IndexOf('~') is var tilde and >= 0 && (tilde == 0 || tilde == value.Length - 1) =>
                    "A delivery id with '~' names one period of a recurring delivery: give 'TEMPLATE~PERIOD', both parts, or the delivery id alone.",
                _ => null,
            };
            if (message is not null)
            {
                (errors ??= [])[name] = [message];
            }
        }

        return errors;
    }

    private static string Words(string name) => name switch
    {
        "id" => "delivery id",
        "profileId" => "profile id",
        _ => name,
    };
}
