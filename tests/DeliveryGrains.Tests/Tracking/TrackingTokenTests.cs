using System.Security.Cryptography;
using DeliveryGrains.Tracking;

namespace DeliveryGrains.Tests.Tracking;

public sealed class TrackingTokenTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    private static readonly TrackingClaims Click = new(TokenKind.Click, "d-1", 3, 17, "profile é/1", 2, "https://shop.example/p?x=1&y=été#frag");

    [Fact, Trait("Rule", "R13.1")]
    public void A_token_reads_back_its_claims_under_its_key_and_kind()
    {
        var token = TrackingToken.Create(Click, Key);
        Assert.Equal(Click, TrackingToken.Read(token, TokenKind.Click, Key));

        var open = Click with { Kind = TokenKind.Open, Link = -1, Url = null };
        Assert.Equal(open, TrackingToken.Read(TrackingToken.Create(open, Key), TokenKind.Open, Key));
    }

    [Fact, Trait("Rule", "R13.1")]
    public void A_content_link_is_named_by_index_alone_and_an_engine_made_id_in_16_bytes()
    {
        var id = Guid.NewGuid().ToString("N");
        var byIndex = new TrackingClaims(TokenKind.Click, id, 7, 123_456, "g42-123456", 104);
        var token = TrackingToken.Create(byIndex, Key);

        Assert.Equal(byIndex, TrackingToken.Read(token, TokenKind.Click, Key));
        // Version, kind, 16-byte id, partition, index, profile, link and the 16-byte MAC: what a click URL of a 20 KB message repeats ~100 times.
        Assert.Equal(2 + 16 + 1 + 3 + 11 + 1 + 16, System.Buffers.Text.Base64Url.DecodeFromChars(token).Length);
        Assert.True(token.Length < TrackingToken.Create(Click, Key).Length);

        // An id that only looks like a GUID (upper case, braces) comes back as written, not in GUID form.
        foreach (var other in new[] { id.ToUpperInvariant(), $"{{{id}}}", "d-1" })
        {
            Assert.Equal(byIndex with { DeliveryId = other }, TrackingToken.Read(TrackingToken.Create(byIndex with { DeliveryId = other }, Key), TokenKind.Click, Key));
        }
    }

    [Fact, Trait("Rule", "R13.1")]
    public void A_version_1_token_of_mail_already_sent_still_reads()
    {
        Assert.Equal(Click, TrackingToken.Read(Version1(Click, Key), TokenKind.Click, Key));
        var open = Click with { Kind = TokenKind.Open, Link = -1, Url = null };
        Assert.Equal(open, TrackingToken.Read(Version1(open, Key), TokenKind.Open, Key));
        Assert.Null(TrackingToken.Read(Version1(Click, Key), TokenKind.Open, Key));
        Assert.Null(TrackingToken.Read(Version1(Click, RandomNumberGenerator.GetBytes(32)), TokenKind.Click, Key));
    }

    internal static string Version1(TrackingClaims claims, byte[] key) => TestKit.Tracking.VersionOneTokens.Create(
        (byte)claims.Kind, claims.DeliveryId, claims.Partition, claims.RecipientIndex, claims.ProfileId,
        claims.Kind == TokenKind.Click ? claims.Link : null, claims.Url, key);

    [Fact, Trait("Rule", "R13.1")]
    public void Every_changed_byte_another_key_another_kind_or_garbage_is_refused()
    {
        var token = TrackingToken.Create(Click, Key);
        foreach (var signed in new[] { token, TrackingToken.Create(Click with { DeliveryId = Guid.NewGuid().ToString("N"), Url = null }, Key), Version1(Click, Key) })
        {
            var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(signed);
            for (var i = 0; i < bytes.Length; i++)
            {
                var changed = (byte[])bytes.Clone();
                changed[i] ^= 0x01;
                Assert.Null(TrackingToken.Read(System.Buffers.Text.Base64Url.EncodeToString(changed), TokenKind.Click, Key));
            }
        }

        Assert.Null(TrackingToken.Read(token[..^1], TokenKind.Click, Key));
        Assert.Null(TrackingToken.Read(token + "A", TokenKind.Click, Key));
        Assert.Null(TrackingToken.Read(token, TokenKind.Click, RandomNumberGenerator.GetBytes(32)));
        Assert.Null(TrackingToken.Read(token, TokenKind.Open, Key));
        Assert.Null(TrackingToken.Read(token, TokenKind.Unsubscribe, Key));
        Assert.Null(TrackingToken.Read("", TokenKind.Click, Key));
        Assert.Null(TrackingToken.Read(null, TokenKind.Click, Key));
        Assert.Null(TrackingToken.Read("not a token!", TokenKind.Click, Key));
        Assert.Null(TrackingToken.Read(new string('A', TrackingToken.MaxLength + 1), TokenKind.Click, Key));
    }

    [Fact, Trait("Rule", "R13.1")]
    public void A_bad_configured_key_or_base_url_is_refused_at_start_naming_the_setting()
    {
        var validator = new TrackingOptionsValidator();
        Assert.True(validator.Validate(null, new TrackingOptions { SigningKey = Convert.ToBase64String(Key), BaseUrl = "https://t.example.com" }).Succeeded);
        Assert.True(validator.Validate(null, new TrackingOptions()).Succeeded);

        var shortKey = validator.Validate(null, new TrackingOptions { SigningKey = Convert.ToBase64String(new byte[16]) });
        Assert.Contains("Tracking:SigningKey holds 16 bytes", shortKey.FailureMessage);
        Assert.Contains("Tracking:SigningKey is not base64", validator.Validate(null, new TrackingOptions { SigningKey = "not base64 ***" }).FailureMessage);
        Assert.Contains("Tracking:BaseUrl", validator.Validate(null, new TrackingOptions { BaseUrl = "ftp://t.example.com" }).FailureMessage);
        Assert.Contains("Tracking:BaseUrl", validator.Validate(null, new TrackingOptions { BaseUrl = "https://t.example.com/?a=1" }).FailureMessage);
    }
}
