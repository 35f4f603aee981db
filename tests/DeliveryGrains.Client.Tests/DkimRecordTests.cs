using System.Security.Cryptography;

namespace DeliveryGrains.Client.Tests;

/// <summary>R13.6: <c>dkim-record</c> prints the TXT record of the silo's DKIM key; a bad key is one line and exit code 2.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DkimRecordTests(ClusterFixture fixture) : IDisposable
{
    private readonly Cli _cli = new(fixture);
    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("cli-dkim-");

    public void Dispose() => _keys.Delete(recursive: true);

    [Fact, Trait("Rule", "R13.6")]
    public async Task An_rsa_key_gives_its_selector_s_record_with_the_public_key_in_strings_of_at_most_255()
    {
        using var rsa = RSA.Create(2048);
        var path = Path.Combine(_keys.FullName, "dkim.pem");
        await File.WriteAllTextAsync(path, rsa.ExportPkcs8PrivateKeyPem());

        var result = await _cli.RunAsync("dkim-record", "--key", path, "--selector", "news2026", "--domain", "example.com.");

        Assert.True(result.ExitCode == 0, result.ToString());
        var line = Assert.Single(result.Lines);
        Assert.StartsWith("news2026._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=", line);
        var strings = line["news2026._domainkey.example.com. IN TXT ".Length..].Split("\" \"").Select(s => s.Trim('"')).ToList();
        Assert.All(strings, s => Assert.True(s.Length <= 255));
        Assert.Equal($"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}", string.Concat(strings));
    }

    [Fact, Trait("Rule", "R13.6")]
    public async Task A_missing_or_unreadable_key_is_one_line_and_exit_code_2()
    {
        var missing = Path.Combine(_keys.FullName, "none.pem");
        var gone = await _cli.RunAsync("dkim-record", "--key", missing, "--selector", "s", "--domain", "example.com");
        Assert.Equal(2, gone.ExitCode);
        Assert.Contains($"--key '{missing}' cannot be read", Assert.Single(gone.Lines));

        var garbage = Path.Combine(_keys.FullName, "garbage.pem");
        await File.WriteAllTextAsync(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        var bad = await _cli.RunAsync("dkim-record", "--key", garbage, "--selector", "s", "--domain", "example.com");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("cannot be read as a DKIM private key", Assert.Single(bad.Lines));

        var incomplete = await _cli.RunAsync("dkim-record", "--key", garbage);
        Assert.Equal(2, incomplete.ExitCode);
        Assert.Contains("--selector, --domain", Assert.Single(incomplete.Lines));
    }
}
