using Microsoft.Extensions.Options;

namespace DeliveryGrains.Tracking;

/// <summary>
/// The tracking, unsubscribe and mirror-page links (configuration section <c>Tracking</c>, R13):
/// the public base URL they point at and the secret their tokens are signed with.
/// </summary>
public sealed class TrackingOptions
{
    public const string Section = "Tracking";

    /// <summary>Public base URL of the links, e.g. <c>https://t.example.com</c>; the silo's own URL when unset.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>
    /// The HMAC-SHA256 secret of the tokens, base64, at least <see cref="MinKeyBytes"/> bytes; every
    /// silo of a cluster needs the same. When unset, a key is made once and stored with the
    /// cluster's data (<see cref="ITrackingKeyGrain"/>).
    /// </summary>
    public string? SigningKey { get; set; }

    public const int MinKeyBytes = 32;

    /// <summary>The configured key's bytes, or null when none is configured (checked at start by <see cref="TrackingOptionsValidator"/>).</summary>
    public byte[]? KeyBytes() => string.IsNullOrWhiteSpace(SigningKey) ? null : Convert.FromBase64String(SigningKey.Trim());
}

/// <summary>Refuses a bad key or base URL at start, naming the setting (the silo does not start).</summary>
public sealed class TrackingOptionsValidator : IValidateOptions<TrackingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrackingOptions options)
    {
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            var bytes = new byte[options.SigningKey.Length];
            if (!Convert.TryFromBase64String(options.SigningKey.Trim(), bytes, out var length))
            {
                problems.Add($"{TrackingOptions.Section}:{nameof(TrackingOptions.SigningKey)} is not base64; make one with `openssl rand -base64 32`.");
            }
            else if (length < TrackingOptions.MinKeyBytes)
            {
                problems.Add($"{TrackingOptions.Section}:{nameof(TrackingOptions.SigningKey)} holds {length} bytes; it needs at least {TrackingOptions.MinKeyBytes} (`openssl rand -base64 32`).");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.BaseUrl)
            && (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            problems.Add($"{TrackingOptions.Section}:{nameof(TrackingOptions.BaseUrl)} '{options.BaseUrl}' is not an absolute http or https URL without query, e.g. https://t.example.com.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>Where the links point when <c>Tracking:BaseUrl</c> is unset: the web host registers the address it listens on.</summary>
public interface ISiloPublicUrl
{
    /// <summary>The silo's own base URL, or null when it serves no HTTP.</summary>
    string? BaseUrl { get; }
}

/// <summary>A silo without a web host (a test cluster): no address of its own.</summary>
internal sealed class NoSiloPublicUrl : ISiloPublicUrl
{
    public string? BaseUrl => null;
}
