using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Tracking;

/// <summary>
/// The silo's signer of tracking, unsubscribe and mirror-page links: the key (configured, or the
/// cluster's stored one read once) and the base URL. Cheap after the first call.
/// </summary>
public sealed partial class TrackingKeys(
    IGrainFactory grains, IOptions<TrackingOptions> options, ISiloPublicUrl siloUrl, ILogger<TrackingKeys> logger)
{
    /// <summary>Where links point when neither <c>Tracking:BaseUrl</c> nor a web host says: good for a silo tried on one machine only.</summary>
    public const string LastResortBaseUrl = "http://localhost";

    private readonly SemaphoreSlim _reading = new(1, 1);
    private byte[]? _key = options.Value.KeyBytes();
    private int _warned;
    private string? _siloUrl;

    /// <summary>The key; the stored one is read once, and read again after a failed read rather than remembered as failed.</summary>
    public async ValueTask<byte[]> KeyAsync()
    {
        if (_key is { } key)
        {
            return key;
        }

        await _reading.WaitAsync();
        try
        {
            return _key ??= await grains.GetGrain<ITrackingKeyGrain>(0).GetKeyAsync();
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>The signer of one silo's links, with the key and base URL as they are now.</summary>
    public async ValueTask<LinkSigner> SignerAsync() => new(await KeyAsync(), BaseUrl());

    /// <summary>The base URL links are made under, without a trailing '/'.</summary>
    public string BaseUrl()
    {
        var configured = options.Value.BaseUrl;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.TrimEnd('/');
        }

        // The web host's address is known once it listens, and does not change after: read it once.
        if ((_siloUrl ??= siloUrl.BaseUrl?.TrimEnd('/')) is { } own)
        {
            return own;
        }

        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            LogNoBaseUrl(LastResortBaseUrl);
        }

        return LastResortBaseUrl;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tracking:BaseUrl is not set and this silo serves no HTTP: tracking and unsubscribe links point at {BaseUrl}")]
    private partial void LogNoBaseUrl(string baseUrl);
}

/// <summary>Makes the signed links of messages under one key and base URL (R13.1, R13.4, and the mirror page).</summary>
public sealed class LinkSigner(byte[] key, string baseUrl)
{
    /// <summary>The paths of the public endpoints (Silo/Tracking), apart from <c>/api</c>.</summary>
    public const string OpenPath = "/t/o/", ClickPath = "/t/c/", UnsubscribePath = "/t/u/", MirrorPagePath = "/t/m/";

    public byte[] Key => key;

    public string BaseUrl => baseUrl;

    /// <summary>The links of one message, named by delivery, partition, recipient index and profile.</summary>
    public MessageLinks For(string deliveryId, int partition, int recipientIndex, string profileId) =>
        new(this, deliveryId, partition, recipientIndex, profileId);

    internal string Url(string path, TrackingClaims claims) => baseUrl + path + TrackingToken.Create(claims, key);
}

/// <summary>The signed links of one message.</summary>
public sealed class MessageLinks(LinkSigner signer, string deliveryId, int partition, int recipientIndex, string profileId)
{
    private TrackingClaims Claims(TokenKind kind) => new(kind, deliveryId, partition, recipientIndex, profileId);

    private string? _unsubscribeUrl;
    private string? _mirrorPageUrl;

    /// <summary>R13.2: the open pixel.</summary>
    public string OpenUrl => signer.Url(LinkSigner.OpenPath, Claims(TokenKind.Open));

    /// <summary>R13.4: the one-click unsubscribe URL (<c>unsubscribeUrl</c> in content); signed once, read by the content and the headers.</summary>
    public string UnsubscribeUrl => _unsubscribeUrl ??= signer.Url(LinkSigner.UnsubscribePath, Claims(TokenKind.Unsubscribe));

    /// <summary>The mirror page: the message as this recipient got it, as a web page (<c>mirrorPageUrl</c> in content).</summary>
    public string MirrorPageUrl => _mirrorPageUrl ??= signer.Url(LinkSigner.MirrorPagePath, Claims(TokenKind.MirrorPage));

    /// <summary>R13.1: the click URL of link <paramref name="link"/> whose original (personalised) is <paramref name="url"/>: the token carries it.</summary>
    public string ClickUrl(int link, string url) =>
        signer.Url(LinkSigner.ClickPath, Claims(TokenKind.Click) with { Link = link, Url = url });

    /// <summary>
    /// R13.1: the click URL of the content's link <paramref name="link"/>, whose address is fixed in the
    /// content: the token names only the link's index, the redirect reads the URL from the delivery's link table.
    /// </summary>
    public string ContentLinkUrl(int link) =>
        signer.Url(LinkSigner.ClickPath, Claims(TokenKind.Click) with { Link = link });
}
