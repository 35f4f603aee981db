using System.ComponentModel;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.X509;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class DkimRecordSettings : CommandSettings
{
    [CommandOption("--key <PATH>")]
    [Description("The PEM file of the DKIM private key the silo signs with (Mta:Dkim:PrivateKeyPath).")]
    public string Key { get; set; } = "";

    [CommandOption("--selector <SELECTOR>")]
    [Description("The selector (Mta:Dkim:Selector), e.g. news2026.")]
    public string Selector { get; set; } = "";

    [CommandOption("--domain <DOMAIN>")]
    [Description("The signing domain (Mta:Dkim:Domain), e.g. example.com.")]
    public string Domain { get; set; } = "";

    public override ValidationResult Validate()
    {
        var missing = new[] { ("--key", Key), ("--selector", Selector), ("--domain", Domain) }.Where(x => string.IsNullOrWhiteSpace(x.Item2)).Select(x => x.Item1).ToList();
        return missing.Count > 0 ? ValidationResult.Error($"Give {string.Join(", ", missing)}.") : ValidationResult.Success();
    }
}

/// <summary>
/// R13.6: the DNS TXT record that publishes the public half of a DKIM key, so receivers can check the
/// silo's signatures: <c>{selector}._domainkey.{domain}</c> with <c>v=DKIM1; k=rsa|ed25519; p=…</c>.
/// Reads the key file only; needs no silo.
/// </summary>
public sealed class DkimRecordCommand(IAnsiConsole console) : Command<DkimRecordSettings>
{
    public override int Execute(CommandContext context, DkimRecordSettings settings, CancellationToken cancellationToken)
    {
        string record;
        try
        {
            record = DkimRecord.Of(File.ReadAllText(settings.Key), settings.Selector.Trim(), settings.Domain.Trim().TrimEnd('.'));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            CliErrors.Line(console, $"--key '{settings.Key}' cannot be read as a DKIM private key (PEM, RSA or Ed25519): {ex.Message}");
            return ExitCodes.InvalidInput;
        }

        console.Profile.Out.Writer.WriteLine(record);
        return ExitCodes.Ok;
    }
}

/// <summary>The TXT record of a DKIM key (RFC 6376 §3.6.1; RFC 8463 for Ed25519).</summary>
public static class DkimRecord
{
    /// <summary>One line for a zone file; the value cut into quoted strings of at most 255 characters, as DNS requires.</summary>
    public static string Of(string pem, string selector, string domain)
    {
        var value = Value(pem);
        var quoted = new StringBuilder();
        for (var i = 0; i < value.Length; i += 255)
        {
            quoted.Append(quoted.Length > 0 ? " " : "").Append('"').Append(value, i, Math.Min(255, value.Length - i)).Append('"');
        }

        return $"{selector}._domainkey.{domain}. IN TXT {quoted}";
    }

    /// <summary>The record's value: <c>v=DKIM1; k=rsa; p=…</c>.</summary>
    public static string Value(string pem)
    {
        var (kind, publicKey) = PublicKeyOf(pem);
        return $"v=DKIM1; k={kind}; p={Convert.ToBase64String(publicKey)}";
    }

    private static (string Kind, byte[] PublicKey) PublicKeyOf(string pem)
    {
        object? item;
        try
        {
            item = new PemReader(new StringReader(pem)).ReadObject();
        }
        catch (Exception ex) when (ex is PemException or IOException or ArgumentException or InvalidCastException)
        {
            throw new InvalidDataException(ex.Message, ex);
        }

        var key = item switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } single => single,
            _ => throw new InvalidDataException("the file holds no private key."),
        };
        return key switch
        {
            RsaPrivateCrtKeyParameters rsa => ("rsa", SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent)).GetDerEncoded()),
            Ed25519PrivateKeyParameters ed => ("ed25519", ed.GeneratePublicKey().GetEncoded()),
            _ => throw new InvalidDataException($"a {key.GetType().Name} is neither an RSA nor an Ed25519 key."),
        };
    }
}
