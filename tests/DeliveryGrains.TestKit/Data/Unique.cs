using System.Globalization;

namespace DeliveryGrains.TestKit.Data;

/// <summary>Keys and addresses no other test uses, so tests sharing a cluster never meet each other's state (quarantine, denylist, SMS opt-outs).</summary>
public static class Unique
{
    /// <summary>Twelve hex digits.</summary>
    public static string Id() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>An e-mail address no other test uses.</summary>
    public static string Email(string local = "user") => $"{local}.{Id()}@example.test";

    /// <summary>
    /// An E.164 number no other test uses: '+8' and 14 random digits (15 in all), away from the
    /// reserved +999 range that generated SMS targets use.
    /// </summary>
    public static string Phone() =>
        "+8" + Random.Shared.NextInt64(10_000_000_000_000, 100_000_000_000_000).ToString(CultureInfo.InvariantCulture);
}
