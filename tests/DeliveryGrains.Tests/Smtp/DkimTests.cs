using System.Security.Cryptography;
using System.Text;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.TestKit.Dkim;
using DeliveryGrains.Tracking;
using Microsoft.Extensions.Options;
using MimeKit;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>R13.6: messages signed by the factory's output and checked by an independent verifier (python3-dkim).</summary>
public sealed class DkimTests : IDisposable
{
    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("dkim-keys-");

    public void Dispose() => _keys.Delete(recursive: true);

    private static OutboundMessage Outbound() => new(
        "d-dkim", 0, 0, "p-1", "ann@example.test", Channel.Email, 1, false,
        new MtaSettings(MtaKind.Smtp, Content: new MessageContent("Hello {{firstName}}", "Hi there", "<p>Hi <a href=\"https://shop.example/\">shop</a></p>")),
        new Dictionary<string, string> { ["firstName"] = "Ann" });

    /// <summary>An RSA key as PEM and the TXT value that publishes it.</summary>
    private (string Path, string Txt) RsaKey()
    {
        using var rsa = RSA.Create(2048);
        var path = Path.Combine(_keys.FullName, "rsa.pem");
        File.WriteAllText(path, rsa.ExportRSAPrivateKeyPem());
        return (path, $"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}");
    }

    /// <summary>An Ed25519 key as PKCS#8 PEM and the TXT value that publishes it (RFC 8463: the raw 32-byte key).</summary>
    private (string Path, string Txt) Ed25519Key()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var path = Path.Combine(_keys.FullName, "ed25519.pem");
        using (var writer = new StreamWriter(path))
        {
            new PemWriter(writer).WriteObject(new Pkcs8Generator(pair.Private));
        }

        return (path, $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(((Ed25519PublicKeyParameters)pair.Public).GetEncoded())}");
    }

    private static byte[] Signed(DkimOptions options)
    {
        var signer = new MessageSigner(Options.Create(options));
        Assert.True(signer.IsOn);
        var links = new LinkSigner(RandomNumberGenerator.GetBytes(32), "https://t.example.com");
        var (message, _) = new SmtpMessageFactory(MailboxAddress.Parse("News <news@example.com>"), "bounces.example.com").Build(Outbound(), DateTimeOffset.UtcNow, links);
        signer.Sign(message);
        using var raw = new MemoryStream();
        message.WriteTo(FormatOptions.Default.Clone(), raw);
        return raw.ToArray();
    }

    private static byte[] ChangedBody(byte[] raw)
    {
        var text = Encoding.ASCII.GetString(raw);
        var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var at = text.IndexOf("Hi there", body, StringComparison.Ordinal);
        Assert.True(at > 0);
        return Encoding.ASCII.GetBytes(string.Concat(text.AsSpan(0, at), "Hi THERE", text.AsSpan(at + "Hi there".Length)));
    }

    [Fact, Trait("Rule", "R13.6")]
    public async Task An_rsa_sha256_relaxed_signature_verifies_independently_and_fails_on_a_changed_body()
    {
        var (path, txt) = RsaKey();
        var raw = Signed(new DkimOptions { Domain = "example.com", Selector = "news", PrivateKeyPath = path });
        var signature = HeaderOf(raw, "DKIM-Signature");
        Assert.Contains("a=rsa-sha256", signature);
        Assert.Contains("c=relaxed/relaxed", signature);
        foreach (var header in new[] { "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post", "feedback-id" })
        {
            Assert.Contains(header, SignedHeaderNames(signature));
        }

        Assert.True(await IndependentDkim.VerifiesAsync(raw, txt));
        Assert.False(await IndependentDkim.VerifiesAsync(ChangedBody(raw), txt));
    }

    [Fact, Trait("Rule", "R13.6")]
    public async Task An_ed25519_sha256_signature_verifies_independently()
    {
        var (path, txt) = Ed25519Key();
        var raw = Signed(new DkimOptions { Domain = "example.com", Selector = "ed", PrivateKeyPath = path, Algorithm = DkimAlgorithm.Ed25519Sha256 });
        Assert.Contains("a=ed25519-sha256", HeaderOf(raw, "DKIM-Signature"));
        Assert.True(await IndependentDkim.VerifiesAsync(raw, txt));
        Assert.False(await IndependentDkim.VerifiesAsync(ChangedBody(raw), txt));
    }

    [Fact, Trait("Rule", "R13.6")]
    public void A_key_that_cannot_be_read_is_refused_at_start_in_one_line_naming_the_setting_and_the_path()
    {
        var validator = new DkimOptionsValidator();
        var missing = Path.Combine(_keys.FullName, "nowhere.pem");
        var result = validator.Validate(null, new DkimOptions { Domain = "example.com", Selector = "news", PrivateKeyPath = missing });
        Assert.True(result.Failed);
        Assert.StartsWith($"Mta:Dkim:PrivateKeyPath '{missing}' cannot be read", result.FailureMessage);
        Assert.DoesNotContain('\n', result.FailureMessage);

        var garbage = Path.Combine(_keys.FullName, "garbage.pem");
        File.WriteAllText(garbage, "not a key");
        Assert.Contains($"'{garbage}'", validator.Validate(null, new DkimOptions { Domain = "example.com", Selector = "news", PrivateKeyPath = garbage }).FailureMessage);

        Assert.Contains("Mta:Dkim:Selector", validator.Validate(null, new DkimOptions { Domain = "example.com", PrivateKeyPath = RsaKey().Path }).FailureMessage);
        Assert.True(validator.Validate(null, new DkimOptions()).Succeeded);
    }

    [Fact, Trait("Rule", "R13.6")]
    public void Every_message_names_its_delivery_in_Feedback_ID()
    {
        var (message, _) = new SmtpMessageFactory(MailboxAddress.Parse("news@example.com"), "bounces.example.com").Build(Outbound(), DateTimeOffset.UtcNow);
        Assert.Equal("d-dkim:email:campaign:bounces.example.com", message.Headers["Feedback-ID"]);
    }

    private static string HeaderOf(byte[] raw, string name)
    {
        using var stream = new MemoryStream(raw);
        return MimeMessage.Load(stream).Headers[name] ?? "";
    }

    private static IReadOnlyList<string> SignedHeaderNames(string signature)
    {
        var h = signature.Replace("\r\n", "", StringComparison.Ordinal).Split(';').Select(t => t.Trim()).First(t => t.StartsWith("h=", StringComparison.Ordinal));
        return [.. h[2..].Split(':').Select(n => n.Trim().ToLowerInvariant())];
    }
}
