using System.Globalization;
using System.Security.Claims;
using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using DeliveryGrains.Mta.Smtp;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace DeliveryGrains.Silo.Api;

public static class DeliveryEndpoints
{
    public const int MaxLogPage = 1000;
    public const int DefaultLogPage = 100;

    public static IEndpointRouteBuilder MapDeliveries(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/deliveries").WithTags("Deliveries").RequireAuthorization().ValidateRouteIds();
        var prepare = Policies.Role(Roles.PrepareDeliveries);
        var start = Policies.Role(Roles.StartDeliveries);

        group.MapPost("/", CreateAsync).Accepts<CreateDeliveryRequest>("application/json").RequireAuthorization(prepare);
        group.MapGet("/{id}", async (string id, IGrainFactory grains) => TypedResults.Ok(await ViewAsync(grains, id)));
        group.MapPatch("/{id}", ChangeAsync).Accepts<ChangeDeliveryRequest>("application/json").RequireAuthorization(prepare);
        group.MapPost("/{id}/prepare", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var result = await Delivery(grains, id).PrepareAsync(user.ToCaller());
            return TypedResults.Ok(new PreparationResponse(result.ToDeliver, result.Excluded));
        }).RequireAuthorization(prepare);
        group.MapPost("/{id}/confirm", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Accepted($"/api/deliveries/{id}", await Delivery(grains, id).ConfirmSendAsync(user.ToCaller())))
            .RequireAuthorization(start);
        group.MapPost("/{id}/pause", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Accepted($"/api/deliveries/{id}", await Delivery(grains, id).PauseAsync(user.ToCaller()))).RequireAuthorization(start);
        group.MapPost("/{id}/resume", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Accepted($"/api/deliveries/{id}", await Delivery(grains, id).ResumeAsync(user.ToCaller()))).RequireAuthorization(start);
        group.MapPost("/{id}/stop", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Accepted($"/api/deliveries/{id}", await Delivery(grains, id).StopAsync(user.ToCaller()))).RequireAuthorization(start);

        group.MapPost("/{id}/compute-stats", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Ok(await Delivery(grains, id).ComputeStatsAsync(user.ToCaller()))).RequireAuthorization(prepare);
        group.MapGet("/{id}/logs", ListLogsAsync);
        group.MapGet("/{id}/logs/{profileId}", async (string id, string profileId, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Ok(await Delivery(grains, id).GetLogAsync(profileId, user.ToCaller())));
        group.MapGet("/{id}/exclusions", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            TypedResults.Ok(await Delivery(grains, id).ListExclusionsAsync(user.ToCaller())));
        group.MapGet("/{id}/executions", async (string id, IGrainFactory grains) => TypedResults.Ok(await Delivery(grains, id).ListExecutionsAsync()));
        group.MapPost("/{id}/preview", PreviewAsync).Accepts<PreviewRequest>("application/json").RequireAuthorization(prepare);
        group.MapPost("/{id}/proofs", SendProofsAsync).Accepts<ProofRequest>("application/json").RequireAuthorization(prepare);
        return app;
    }

    /// <summary>R14.4: the content rendered for one recipient of the target; no body (or no profileId) takes the first.</summary>
    private static async Task<Results<Ok<ContentPreview>, ValidationProblem>> PreviewAsync(
        string id, HttpRequest http, ClaimsPrincipal user, IGrainFactory grains, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        string? profileId = null;
        if (HasBody(http))
        {
            var body = await JsonBody.ReadAsync<PreviewRequest>(http, json.Value.SerializerOptions, cancellationToken);
            if (body.Value is not { } request)
            {
                return Problems.Invalid(body.Errors.ToDictionary());
            }

            profileId = string.IsNullOrWhiteSpace(request.ProfileId) ? null : request.ProfileId.Trim();
        }

        return TypedResults.Ok(await Delivery(grains, id).PreviewAsync(profileId, user.ToCaller()));
    }

    /// <summary>R14.4: sends a proof to the given addresses through the delivery's MTA; 202 with how many took it.</summary>
    private static async Task<Results<Accepted<ProofResponse>, ValidationProblem>> SendProofsAsync(
        string id, HttpRequest http, ClaimsPrincipal user, IGrainFactory grains, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<ProofRequest>(http, json.Value.SerializerOptions, cancellationToken);
        if (body.Value is not { } request)
        {
            return Problems.Invalid(body.Errors.ToDictionary());
        }

        var profileId = string.IsNullOrWhiteSpace(request.ProfileId) ? null : request.ProfileId.Trim();
        var result = await Delivery(grains, id).SendProofsAsync(request.Addresses ?? [], profileId, user.ToCaller());
        return TypedResults.Accepted($"/api/deliveries/{id}", new ProofResponse(result.Sent, result.Number, result.Refused));
    }

    /// <summary>Whether a body was sent at all: a preview may come without one.</summary>
    private static bool HasBody(HttpRequest http) =>
        http.ContentLength is > 0 || (http.ContentLength is null && http.Headers.TransferEncoding.Count > 0);

    private static async Task<Results<Created<DeliveryView>, ValidationProblem>> CreateAsync(
        HttpRequest http, ClaimsPrincipal user, IGrainFactory grains, IOptions<MtaOptions> mta, IOptions<JsonOptions> json, IOptions<SmtpOptions> smtp, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateDeliveryRequest>(http, json.Value.SerializerOptions, cancellationToken);
        if (body.Value is not { } request)
        {
            return Problems.Invalid(body.Errors.ToDictionary());
        }

        var definition = request.ToDefinition(mta.Value.Kind);
        var errors = body.Merge(DeliveryRules.Validate(definition));
        if (definition.Mta.Kind == MtaKind.Smtp && !smtp.Value.IsConfigured)
        {
            errors["mta.kind"] = [.. errors.GetValueOrDefault("mta.kind") ?? [], SmtpOptions.NotConfigured];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var id = Guid.NewGuid().ToString("N");
        var view = await Delivery(grains, id).CreateAsync(definition, user.ToCaller());
        return TypedResults.Created($"/api/deliveries/{id}", view);
    }

    private static async Task<Results<Ok<DeliveryView>, ValidationProblem>> ChangeAsync(
        string id, HttpRequest http, ClaimsPrincipal user, IGrainFactory grains, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<ChangeDeliveryRequest>(http, json.Value.SerializerOptions, cancellationToken);
        if (body.Value is not { } request)
        {
            return Problems.Invalid(body.Errors.ToDictionary());
        }

        var recipients = request.Recipients?.Select(DeliveryRequestMapping.ToRecipient).ToList();
        var generated = request.GeneratedTarget?.ToTarget();
        var rules = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (rules.TryGetValue(field, out var list) ? list : rules[field] = []).Add(message);
        if (request.Name is { } name && string.IsNullOrWhiteSpace(name))
        {
            Add("name", "Give the delivery a name, or leave 'name' out to keep it.");
        }

        if (recipients is not null || generated is not null)
        {
            DeliveryRules.ValidateTarget(recipients, generated, Add);
        }

        // R14.1: new content is refused here when a template does not parse, naming its line and column.
        var content = request.Content?.ToContent();
        if (content is not null)
        {
            DeliveryRules.ValidateContent(content, Add);
        }

        var errors = body.Merge(rules.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var changes = new DeliveryChanges(request.Name, recipients, generated, request.SendAt, Content: content);
        return TypedResults.Ok(await Delivery(grains, id).ChangeAsync(changes, user.ToCaller()));
    }

    private static async Task<Results<Ok<LogPage>, ValidationProblem>> ListLogsAsync(
        string id, string? status, string? failureType, string? failureReason, string? q, string? after, string? limit, ClaimsPrincipal user, IGrainFactory grains)
    {
        var query = ParseLogQuery(status, failureType, failureReason, q, after, limit, out var errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        return TypedResults.Ok(await Delivery(grains, id).ListLogsAsync(query, user.ToCaller()));
    }

    /// <summary>The logs' query values, each checked; <paramref name="errors"/> names every bad one.</summary>
    public static LogQuery ParseLogQuery(
        string? status, string? failureType, string? failureReason, string? q, string? after, string? limit, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var wanted = ParseEnum<LogStatus>("status", status, "log status", "every log", errors);
        var type = ParseEnum<FailureType>("failureType", failureType, "failure type", "every type", errors);
        var reason = ParseEnum<FailureReason>("failureReason", failureReason, "failure reason", "every reason", errors);
        if (q is { Length: > LogQuery.MaxTextLength })
        {
            errors["q"] = [$"Search with at most {LogQuery.MaxTextLength} characters of a profile id or an address."];
        }

        var pageSize = DefaultLogPage;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!long.TryParse(limit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var asked))
            {
                errors["limit"] = [$"'{limit}' is not a whole number; ask for 1 to {MaxLogPage} logs per page, e.g. limit=100."];
            }
            else if (asked is < 1 or > MaxLogPage)
            {
                errors["limit"] = [$"{asked} is out of range: ask for 1 to {MaxLogPage} logs per page."];
            }
            else
            {
                pageSize = (int)asked;
            }
        }

        return new LogQuery(wanted, string.IsNullOrEmpty(after) ? null : after, pageSize, type, reason, string.IsNullOrWhiteSpace(q) ? null : q.Trim());
    }

    private static T? ParseEnum<T>(string field, string? text, string what, string every, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!text.Any(char.IsAsciiDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
        {
            return parsed;
        }

        errors[field] = [$"'{text}' is not a {what}; use {JsonShape.Names(typeof(T))}, or leave '{field}' out for {every}."];
        return null;
    }

    private static IDeliveryGrain Delivery(IGrainFactory grains, string id) => grains.GetGrain<IDeliveryGrain>(id);

    /// <summary>An aggregated execution's id is "{templateId}~{period}" (R3.4): its summed view comes from the template.</summary>
    private static Task<DeliveryView> ViewAsync(IGrainFactory grains, string id)
    {
        var tilde = id.IndexOf('~');
        return tilde < 0 ? Delivery(grains, id).GetViewAsync() : Delivery(grains, id[..tilde]).GetExecutionViewAsync(id);
    }
}
