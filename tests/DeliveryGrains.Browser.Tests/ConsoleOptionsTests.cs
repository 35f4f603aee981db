using DeliveryGrains.Silo.OperatorConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Browser.Tests;

/// <summary>The console's settings are checked at start, each refusal naming its key.</summary>
public sealed class ConsoleOptionsTests
{
    [Fact]
    [Trait("Rule", "R1")]
    public void An_upload_limit_out_of_range_stops_the_silo_naming_the_key()
    {
        var builder = Builder(new() { ["Console:MaxUploadBytes"] = "10" });
        builder.AddOperatorConsole();
        using var app = builder.Build();

        var refused = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<OperatorConsoleOptions>>().Value);
        Assert.Contains("MaxUploadBytes", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Rule", "R1")]
    public void A_key_ring_folder_the_silo_cannot_write_stops_it_naming_the_key()
    {
        var file = Path.GetTempFileName();
        try
        {
            var builder = Builder(new() { ["Console:KeyRingPath"] = Path.Combine(file, "keys") });

            var refused = Assert.Throws<OptionsValidationException>(() => builder.AddOperatorConsole());
            Assert.Contains("Console:KeyRingPath", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    [Trait("Rule", "R1")]
    public void Silos_given_the_same_key_ring_folder_read_each_others_sealed_cookies()
    {
        var folder = Directory.CreateTempSubdirectory("console-keys-");
        try
        {
            string sealedBy;
            using (var one = Silo(folder.FullName))
            {
                sealedBy = Protector(one).Protect("a session");
            }

            using var other = Silo(folder.FullName);
            Assert.Equal("a session", Protector(other).Unprotect(sealedBy));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A silo's services as AddOperatorConsole sets them up (nothing started).</summary>
    private static WebApplication Silo(string keyRing)
    {
        var builder = Builder(new() { ["Console:KeyRingPath"] = keyRing });
        builder.AddOperatorConsole();
        return builder.Build();
    }

    private static IDataProtector Protector(WebApplication silo) =>
        silo.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("console-test");

    private static WebApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }
}
