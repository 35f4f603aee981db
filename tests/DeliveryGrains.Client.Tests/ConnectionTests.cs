using DeliveryGrains.Client.Commands;
using DeliveryGrains.Client.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Testing;

namespace DeliveryGrains.Client.Tests;

public sealed class ConnectionTests
{
    [Fact]
    [Trait("Area", "Client")]
    [Trait("Rule", "R1.2")]
    public async Task A_silo_that_is_not_there_is_one_readable_line_and_exit_code_1()
    {
        var port = FreePort.Next();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(GatewayPortArgument.Find(["show", "x", "--gateway-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        builder.Configuration["Orleans:ConnectTimeout"] = "00:00:01";
        builder.AddDeliveryClient();
        using var host = builder.Build();
        var connection = host.Services.GetRequiredService<HostedClusterConnection>();

        var failure = await Assert.ThrowsAsync<ClusterUnavailableException>(() => connection.ConnectAsync(CancellationToken.None));
        var console = new TestConsole().Width(60);
        var code = CliErrors.Report(console, failure);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(
            $"Cannot reach the DeliveryGrains silo at localhost:{port}: start it with `dotnet run --project Silo`",
            Assert.Single(console.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd());
    }
}
