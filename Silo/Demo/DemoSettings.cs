using System.Globalization;

namespace DeliveryGrains.Silo.Demo;

/// <summary>
/// <c>demo [--recipients N] [--validity T]</c>: the one-command simulated delivery. Anything else on
/// the command line (such as <c>--urls</c>) is left to the host.
/// </summary>
public sealed record DemoSettings(int Recipients, TimeSpan Validity)
{
    public const string Verb = "demo";

    public static DemoSettings Default { get; } = new(5_000, TimeSpan.FromSeconds(30));

    /// <summary>Null when the first argument is not <c>demo</c>; throws <see cref="ArgumentException"/> with one readable line for bad options.</summary>
    public static DemoSettings? Parse(string[] args, out string[] hostArgs)
    {
        hostArgs = args;
        if (args.Length == 0 || args[0] != Verb)
        {
            return null;
        }

        var settings = Default;
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--recipients":
                    var count = Value(args, ref i);
                    settings = int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1_000_000
                        ? settings with { Recipients = n }
                        : throw new ArgumentException($"--recipients '{count}' is not a number from 1 to 1000000.");
                    break;
                case "--validity":
                    var validity = Value(args, ref i);
                    settings = TimeSpan.TryParse(validity, CultureInfo.InvariantCulture, out var t) && t >= TimeSpan.FromSeconds(5) && t <= TimeSpan.FromHours(1)
                        ? settings with { Validity = t }
                        : throw new ArgumentException($"--validity '{validity}' is not a duration from 00:00:05 to 01:00:00.");
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        hostArgs = [.. rest];
        return settings;
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");
}
