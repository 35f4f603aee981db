using System.Net;
using DeliveryGrains.Deliveries;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Security;

/// <summary>
/// <c>/dashboard</c> and <c>/metrics</c>: open when every address the HTTP host listens on is
/// loopback (only processes of this machine can reach them) and <c>Security:OpenMonitoringOnLoopback</c>
/// is on (the default); otherwise the caller needs Administration or Monitoring.
/// </summary>
public sealed class MonitoringAccessRequirement : IAuthorizationRequirement
{
    public static readonly string[] Roles = [DeliveryGrains.Deliveries.Roles.Administration, DeliveryGrains.Deliveries.Roles.Monitoring];
}

public sealed class MonitoringAccessHandler(IServer server, IOptionsMonitor<SecurityOptions> security) : AuthorizationHandler<MonitoringAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, MonitoringAccessRequirement requirement)
    {
        if (MonitoringAccessRequirement.Roles.Any(context.User.IsInRole)
            || (security.CurrentValue.OpenMonitoringOnLoopback && ListensOnLoopbackOnly(server)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    /// <summary>True when the host listens and every address it listens on is loopback (127.0.0.0/8, ::1, localhost).</summary>
    public static bool ListensOnLoopbackOnly(IServer server) =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses is { Count: > 0 } addresses && addresses.All(IsLoopback);

    /// <summary>"http://127.0.0.1:8080" and "http://localhost:5000" are loopback; "http://0.0.0.0:8080", "http://+:80", "http://*:80", "http://[::]:80" are not.</summary>
    public static bool IsLoopback(string address)
    {
        var host = HostOf(address);
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static string HostOf(string address)
    {
        var rest = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        var slash = rest.IndexOf('/');
        rest = slash < 0 ? rest : rest[..slash];
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            return close < 0 ? rest : rest[..(close + 1)];
        }

        var colon = rest.LastIndexOf(':');
        return colon < 0 ? rest : rest[..colon];
    }
}
