using System.Globalization;
using System.Text.RegularExpressions;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The simulated MTA's per-domain scenario (R12.5, <c>mta.scenario</c>): which domains the recipients
/// are on and how each one behaves. Without a scenario the simulator behaves as before; with one, a
/// generated target's addresses go on its domains by share, and a message is accepted by its domain
/// only under the domain's cap per minute (above it: an R12.3 deferral, the message goes again in
/// the next minute). The format is documented in <c>docs/rules.md</c> (R12.5) and
/// <c>scenarios/README.md</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("SimulatorScenario")]
public sealed record SimulatorScenario(
    [property: Id(0)] string? Name,
    [property: Id(1)] IReadOnlyList<ScenarioDomain>? Domains);

/// <summary>
/// One destination domain of a scenario. Absent rates take the delivery's own (<c>mta.hardBounceRate</c>
/// and so on); an absent <see cref="AcceptPerMinute"/> means no cap; an absent latency means the
/// delivery's <c>mta.feedbackDelay</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ScenarioDomain")]
public sealed record ScenarioDomain(
    [property: Id(0)] string? Domain,
    [property: Id(1)] double? Share,
    [property: Id(2)] int? AcceptPerMinute,
    [property: Id(3)] double? HardBounceRate,
    [property: Id(4)] double? SoftBounceRate,
    [property: Id(5)] ScenarioLatency? Latency,
    [property: Id(6)] ScenarioGreylist? Greylist,
    [property: Id(7)] ScenarioEngagement? Opens,
    [property: Id(8)] ScenarioEngagement? Clicks);

/// <summary>
/// How long after a domain accepted a message its outcome comes back: a draw from <see cref="Min"/> to
/// <see cref="Max"/> where half the draws fall below <see cref="Median"/> (uniform on each side).
/// </summary>
[GenerateSerializer, Immutable, Alias("ScenarioLatency")]
public sealed record ScenarioLatency(
    [property: Id(0)] TimeSpan? Min,
    [property: Id(1)] TimeSpan? Median,
    [property: Id(2)] TimeSpan? Max);

/// <summary>The share of messages whose first try the domain greylists (421 4.7.1, R12.3) and how long it wants the sender to wait.</summary>
[GenerateSerializer, Immutable, Alias("ScenarioGreylist")]
public sealed record ScenarioGreylist(
    [property: Id(0)] double? Rate,
    [property: Id(1)] TimeSpan? RetryAfter);

/// <summary>
/// Opens or clicks of a domain's delivered recipients: the share who do it and, optionally, the
/// hourly curve of when: weight per hour after delivery (entry 0 is the first hour). Without a curve
/// they come with the delivery's outcome, as without a scenario.
/// </summary>
[GenerateSerializer, Immutable, Alias("ScenarioEngagement")]
public sealed record ScenarioEngagement(
    [property: Id(0)] double? Rate,
    [property: Id(1)] IReadOnlyList<double>? Hourly);

/// <summary>The bounds of a scenario and the one place that checks them (API and Client alike).</summary>
public static partial class ScenarioRules
{
    public const int MaxDomains = 1_000;
    public const int MaxAcceptPerMinute = 10_000_000;
    public const int MaxCurveHours = 168;
    public const int MaxNameLength = 200;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    /// <summary>Shares must add up to 1 within this much.</summary>
    public const double ShareTolerance = 0.001;

    /// <summary>Adds one message per bad field, keyed under <paramref name="prefix"/> (e.g. <c>mta.scenario.domains[2].share</c>).</summary>
    public static void Validate(SimulatorScenario scenario, string prefix, Action<string, string> add)
    {
        if (scenario.Name?.Length > MaxNameLength)
        {
            add($"{prefix}.name", $"Keep the scenario's name to {MaxNameLength} characters or fewer.");
        }

        if (scenario.Domains is not { Count: > 0 } domains)
        {
            add($"{prefix}.domains", $"List the scenario's domains: 1 to {MaxDomains:N0} entries of {{ \"domain\", \"share\" }}.");
            return;
        }

        if (domains.Count > MaxDomains)
        {
            add($"{prefix}.domains", $"A scenario has 1 to {MaxDomains:N0} domains, not {domains.Count:N0}.");
            return;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var shares = 0.0;
        var sharesKnown = true;
        for (var i = 0; i < domains.Count; i++)
        {
            var at = $"{prefix}.domains[{i}]";
            if (domains[i] is not { } d)
            {
                add(at, "Give each domain as an object { \"domain\", \"share\", … }, not null.");
                sharesKnown = false;
                continue;
            }

            if (string.IsNullOrWhiteSpace(d.Domain) || !DomainName().IsMatch(d.Domain))
            {
                add($"{at}.domain", $"'{d.Domain}' is not a domain name such as \"gmail.test\" (letters, digits, hyphens and dots, at most 253 characters).");
            }
            else if (!seen.Add(d.Domain))
            {
                add($"{at}.domain", $"'{d.Domain}' is listed twice; give each domain once.");
            }

            if (d.Share is not { } share || double.IsNaN(share) || share is <= 0 or > 1)
            {
                add($"{at}.share", "Give the domain's share of recipients as a fraction above 0 and at most 1; the shares add up to 1.");
                sharesKnown = false;
            }
            else
            {
                shares += share;
            }

            if (d.AcceptPerMinute is < 1 or > MaxAcceptPerMinute)
            {
                add($"{at}.acceptPerMinute", $"Accept 1 to {MaxAcceptPerMinute:N0} messages per minute, or leave it out for no cap.");
            }

            Rate($"{at}.hardBounceRate", d.HardBounceRate, add);
            Rate($"{at}.softBounceRate", d.SoftBounceRate, add);
            if (d.HardBounceRate + d.SoftBounceRate > 1)
            {
                add($"{at}.softBounceRate", "hardBounceRate + softBounceRate cannot exceed 1.");
            }

            if (d.Latency is { } latency)
            {
                ValidateLatency(latency, $"{at}.latency", add);
            }

            if (d.Greylist is { } greylist)
            {
                if (greylist.Rate is null)
                {
                    add($"{at}.greylist.rate", "Give the share of first tries the domain greylists, a fraction from 0 to 1.");
                }

                Rate($"{at}.greylist.rate", greylist.Rate, add);
                Delay($"{at}.greylist.retryAfter", greylist.RetryAfter, add);
            }

            Engagement(d.Opens, $"{at}.opens", add);
            Engagement(d.Clicks, $"{at}.clicks", add);
        }

        if (sharesKnown && Math.Abs(shares - 1) > ShareTolerance)
        {
            add($"{prefix}.domains", string.Create(CultureInfo.InvariantCulture,
                $"The domains' shares add up to {shares:0.####}; make them add up to 1 (within {ShareTolerance})."));
        }
    }

    private static void ValidateLatency(ScenarioLatency latency, string at, Action<string, string> add)
    {
        Delay($"{at}.min", latency.Min, add);
        Delay($"{at}.median", latency.Median, add);
        Delay($"{at}.max", latency.Max, add);
        var min = latency.Min ?? TimeSpan.Zero;
        var max = latency.Max ?? latency.Median ?? min;
        var median = latency.Median ?? min + (max - min) / 2;
        if (min > median || median > max)
        {
            add(at, "Give min ≤ median ≤ max.");
        }
    }

    private static void Engagement(ScenarioEngagement? engagement, string at, Action<string, string> add)
    {
        if (engagement is null)
        {
            return;
        }

        Rate($"{at}.rate", engagement.Rate, add);
        if (engagement.Hourly is not { } hourly)
        {
            return;
        }

        if (hourly.Count is < 1 or > MaxCurveHours)
        {
            add($"{at}.hourly", $"Give 1 to {MaxCurveHours} hourly weights (entry 0 is the first hour after delivery), not {hourly.Count}.");
        }
        else if (hourly.Any(w => double.IsNaN(w) || double.IsInfinity(w) || w < 0) || hourly.Sum() <= 0)
        {
            add($"{at}.hourly", "Hourly weights are numbers of 0 or more, at least one above 0.");
        }
    }

    private static void Rate(string field, double? value, Action<string, string> add)
    {
        if (value is { } v && (double.IsNaN(v) || v is < 0 or > 1))
        {
            add(field, "Rates are fractions from 0 to 1.");
        }
    }

    private static void Delay(string field, TimeSpan? value, Action<string, string> add)
    {
        if (value is { } v && (v < TimeSpan.Zero || v > MaxDelay))
        {
            add(field, "Use a duration from \"00:00:00\" to \"1.00:00:00\".");
        }
    }

    [GeneratedRegex(@"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]{0,61}[a-zA-Z0-9]$")]
    private static partial Regex DomainName();
}

/// <summary>
/// Spreads a generated target over a scenario's domains by share, deterministically: recipient <c>i</c>
/// takes the domain whose slice of [0, 1) holds the fractional part of <c>(i + 1) × φ</c>, a
/// low-discrepancy sequence, so any run of recipients matches the shares within a few recipients.
/// </summary>
public sealed class ScenarioDomainPicker
{
    private const double GoldenFraction = 0.6180339887498949;
    private readonly string[] _domains;
    private readonly double[] _upper;

    public ScenarioDomainPicker(SimulatorScenario scenario)
    {
        var domains = scenario.Domains ?? [];
        _domains = [.. domains.Select(d => d.Domain!.ToLowerInvariant())];
        _upper = new double[domains.Count];
        var total = domains.Sum(d => d.Share ?? 0);
        var sum = 0.0;
        for (var i = 0; i < domains.Count; i++)
        {
            sum += (domains[i].Share ?? 0) / total;
            _upper[i] = sum;
        }

        _upper[^1] = 1;
    }

    public string DomainOf(int i)
    {
        var u = (i + 1.0) * GoldenFraction;
        u -= Math.Floor(u);
        var index = Array.BinarySearch(_upper, u);
        index = index >= 0 ? index + 1 : ~index;
        return _domains[Math.Min(index, _domains.Length - 1)];
    }
}
