using System.Globalization;

namespace DeliveryGrains.Client.Hosting;

/// <summary>
/// The connection is configured before the command line is parsed, so <c>--gateway-port</c> is read
/// here and layered over the other configuration sources as <c>Orleans:GatewayPort</c>.
/// </summary>
public static class GatewayPortArgument
{
    public const string Name = "--gateway-port";

    public static IEnumerable<KeyValuePair<string, string?>> Find(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == Name && i + 1 < args.Count)
            {
                yield return Setting(args[i + 1]);
            }
            else if (arg.StartsWith(Name + "=", StringComparison.Ordinal))
            {
                yield return Setting(arg[(Name.Length + 1)..]);
            }
        }
    }

    private static KeyValuePair<string, string?> Setting(string value) =>
        new($"{OrleansConnectionOptions.Section}:{nameof(OrleansConnectionOptions.GatewayPort)}", value.Trim().ToString(CultureInfo.InvariantCulture));
}
