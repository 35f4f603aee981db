using System.Diagnostics;

namespace DeliveryGrains.TestKit.Dkim;

/// <summary>
/// Checks a DKIM signature with a verifier that shares no code with the product: Debian's
/// python3-dkim (dkimpy; python3-nacl for ed25519-sha256), installed by .ci/run. The DNS answer is
/// given, not looked up: <c>dnsfunc</c> returns the TXT value the test publishes.
/// </summary>
public static class IndependentDkim
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import sys, dkim
        raw = open(sys.argv[1], 'rb').read()
        txt = open(sys.argv[2], 'rb').read()
        ok = dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt)
        print('verified' if ok else 'refused')
        sys.exit(0 if ok else 1)
        """;

    /// <summary>Whether python3-dkim verifies <paramref name="raw"/> when the selector's TXT record is <paramref name="txtValue"/>.</summary>
    public static async Task<bool> VerifiesAsync(byte[] raw, string txtValue)
    {
        var directory = Directory.CreateTempSubdirectory("dkim-");
        try
        {
            var message = Path.Combine(directory.FullName, "message.eml");
            var record = Path.Combine(directory.FullName, "record.txt");
            var script = Path.Combine(directory.FullName, "verify.py");
            await File.WriteAllBytesAsync(message, raw);
            await File.WriteAllTextAsync(record, txtValue);
            await File.WriteAllTextAsync(script, Script);
            var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { script, message, record })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start.");
            var output = await process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (error.Contains("No module named", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The independent DKIM verifier is missing ({error.Trim()}): install python3-dkim and python3-nacl (.ci/run does).");
            }

            return process.ExitCode == 0 && output.Trim() == "verified";
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
