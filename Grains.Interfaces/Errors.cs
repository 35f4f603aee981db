namespace DeliveryGrains;

/// <summary>A request the domain refuses; the HTTP host maps each kind to its status code.</summary>
[GenerateSerializer, Alias("DeliveryRefusedException")]
public abstract class DeliveryRefusedException(string message) : Exception(message);

/// <summary>The thing asked for does not exist (404).</summary>
[GenerateSerializer, Alias("NotFoundException")]
public sealed class NotFoundException(string message) : DeliveryRefusedException(message);

/// <summary>The current state does not allow the request (409); nothing was changed.</summary>
[GenerateSerializer, Alias("ConflictException")]
public sealed class ConflictException(string message) : DeliveryRefusedException(message);

/// <summary>The caller is not a configured user: no API key, or one that names nobody (401).</summary>
[GenerateSerializer, Alias("NotAuthenticatedException")]
public sealed class NotAuthenticatedException(string message) : DeliveryRefusedException(message);

/// <summary>The caller lacks a role (403); <see cref="Role"/> names it (R1.1).</summary>
[GenerateSerializer, Alias("MissingRoleException")]
public sealed class MissingRoleException(string role, string action)
    : DeliveryRefusedException($"{action} needs the role '{role}', which you do not hold.")
{
    [Id(0)] public string Role { get; } = role;
}

/// <summary>Bad input (400); <see cref="Errors"/> lists every bad field with what to fix.</summary>
[GenerateSerializer, Alias("ValidationException")]
public sealed class ValidationException(IReadOnlyDictionary<string, string[]> errors)
    : DeliveryRefusedException("One or more fields are invalid: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")))
{
    [Id(0)] public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>
/// A call to an engine grain refused because the cluster's last silo is stopping (503, try again once a
/// silo runs); nothing was changed.
/// </summary>
[GenerateSerializer, Alias("SiloLeavingException")]
public sealed class SiloLeavingException(string message) : Exception(message);
