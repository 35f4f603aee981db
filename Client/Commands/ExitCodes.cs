namespace DeliveryGrains.Client.Commands;

/// <summary>What the client's exit code tells a script.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The silo is unreachable, the run failed or a check did not hold.</summary>
    public const int Failed = 1;

    /// <summary>Invalid options, input files or fields (a ValidationException).</summary>
    public const int InvalidInput = 2;

    /// <summary>No such delivery or log (NotFoundException).</summary>
    public const int NotFound = 3;

    /// <summary>The delivery's state does not allow it (ConflictException, R2.3).</summary>
    public const int Conflict = 4;

    /// <summary>The user lacks a role (MissingRoleException, R1.1).</summary>
    public const int MissingRole = 5;

    /// <summary>A watch timed out before its condition held.</summary>
    public const int TimedOut = 6;

    public const int Cancelled = 130;
}

/// <summary>Input the client refuses before asking the silo (a file, an option, the configuration).</summary>
public sealed class InvalidInputException(string message) : Exception(message);
