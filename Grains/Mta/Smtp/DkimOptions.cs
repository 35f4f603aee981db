using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;

namespace DeliveryGrains.Mta.Smtp;

/// <summary>The DKIM signature algorithms a silo signs with (R13.6).</summary>
public enum DkimAlgorithm
{
    /// <summary>RFC 6376 <c>rsa-sha256</c>: every verifier takes it.</summary>
    RsaSha256,

    /// <summary>RFC 8463 <c>ed25519-sha256</c>: short keys; not every verifier takes it yet, so publish an RSA selector too.</summary>
    Ed25519Sha256,
}

/// <summary>
/// DKIM signing of every relayed message (configuration section <c>Mta:Dkim</c>, R13.6); off while
/// <see cref="Domain"/> is unset. The private key is a PEM file (PKCS#1 or PKCS#8 RSA, or PKCS#8 Ed25519).
/// </summary>
public sealed class DkimOptions
{
    public const string Section = "Mta:Dkim";

    /// <summary>The signing domain (<c>d=</c>), usually the domain of the header <c>From</c> for DMARC alignment.</summary>
    public string? Domain { get; set; }

    /// <summary>The selector (<c>s=</c>): the key is published at <c>{Selector}._domainkey.{Domain}</c>.</summary>
    public string? Selector { get; set; }

    /// <summary>The PEM file of the private key.</summary>
    public string? PrivateKeyPath { get; set; }

    public DkimAlgorithm Algorithm { get; set; } = DkimAlgorithm.RsaSha256;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Domain) || !string.IsNullOrWhiteSpace(Selector) || !string.IsNullOrWhiteSpace(PrivateKeyPath);
}

/// <summary>
/// Reads the key at start: a key that cannot be read stops the silo with one line naming the
/// setting and the path (R13.6), rather than every message failing later.
/// </summary>
public sealed class DkimOptionsValidator : IValidateOptions<DkimOptions>
{
    public ValidateOptionsResult Validate(string? name, DkimOptions options)
    {
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Success;
        }

        var missing = new[] { (nameof(DkimOptions.Domain), options.Domain), (nameof(DkimOptions.Selector), options.Selector), (nameof(DkimOptions.PrivateKeyPath), options.PrivateKeyPath) }
            .Where(x => string.IsNullOrWhiteSpace(x.Item2)).Select(x => $"{DkimOptions.Section}:{x.Item1}").ToList();
        if (missing.Count > 0)
        {
            return ValidateOptionsResult.Fail($"DKIM signing needs {string.Join(", ", missing)} as well (or none of {DkimOptions.Section}:* at all).");
        }

        return MessageSigner.Load(options, out var problem) is null ? ValidateOptionsResult.Fail(problem!) : ValidateOptionsResult.Success;
    }
}

/// <summary>R13.6: signs a built message with the configured DKIM key, or leaves it as it is when DKIM is off.</summary>
public sealed class MessageSigner(IOptions<DkimOptions> options)
{
    /// <summary>The headers signed when present, in this order; From is always one (RFC 6376 §5.4).</summary>
    public static readonly IReadOnlyList<string> SignedHeaders =
    [
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    ];

    private readonly DkimSigner? _signer = options.Value.IsConfigured ? Load(options.Value, out _) : null;

    public bool IsOn => _signer is not null;

    /// <summary>
    /// Signs <paramref name="message"/> in place. The message is first fixed in 7-bit form, so no
    /// server or client on the way has a reason to re-encode it and break the body hash.
    /// </summary>
    public void Sign(MimeMessage message)
    {
        if (_signer is null)
        {
            return;
        }

        message.Prepare(EncodingConstraint.SevenBit);
        // The top-level Content-Type belongs to the body in MimeKit's model, but is a header of the message on the wire.
        _signer.Sign(message, [.. SignedHeaders.Where(h => message.Headers.Contains(h) || (h == "Content-Type" && message.Body is not null))]);
    }

    /// <summary>The signer of <paramref name="options"/>; null with <paramref name="problem"/> naming setting and path when the key cannot be read.</summary>
    public static DkimSigner? Load(DkimOptions options, out string? problem)
    {
        var path = options.PrivateKeyPath!;
        var setting = $"{DkimOptions.Section}:{nameof(DkimOptions.PrivateKeyPath)}";
        try
        {
            var algorithm = options.Algorithm == DkimAlgorithm.Ed25519Sha256 ? DkimSignatureAlgorithm.Ed25519Sha256 : DkimSignatureAlgorithm.RsaSha256;
            var signer = new DkimSigner(path, options.Domain!.Trim(), options.Selector!.Trim(), algorithm)
            {
                HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            };
            problem = null;
            return signer;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException or NotSupportedException or InvalidOperationException
            or Org.BouncyCastle.Security.SecurityUtilityException or Org.BouncyCastle.Crypto.CryptoException or Org.BouncyCastle.OpenSsl.PemException)
        {
            problem = $"{setting} '{path}' cannot be read as a {options.Algorithm} private key (PEM): {ex.Message}";
            return null;
        }
    }
}
