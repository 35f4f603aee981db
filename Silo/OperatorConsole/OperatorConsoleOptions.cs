using System.ComponentModel.DataAnnotations;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>The operator console (configuration section <c>Console</c>), validated at start.</summary>
public sealed class OperatorConsoleOptions
{
    public const string Section = "Console";

    /// <summary>The largest target file the New delivery form takes, in bytes (default 50 MiB).</summary>
    [Range(1024, 1L << 31)]
    public long MaxUploadBytes { get; set; } = 50L << 20;

    /// <summary>How long a sign-in lasts without a request (sliding; default 8 hours).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// A folder for the data-protection keys that seal sign-in cookies and antiforgery tokens; every
    /// silo of a cluster given the same folder accepts the others' cookies. Null: ASP.NET Core's default.
    /// </summary>
    public string? KeyRingPath { get; set; }
}
