using DeliveryGrains.Addresses;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Feedback;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.Api;

/// <summary>One event as an MTA posts it; type and reason are parsed per event so one bad event rejects only itself.</summary>
public sealed record FeedbackEventDto(string? EventId, string? DeliveryId, string? ProfileId, string? Type, string? Reason, DateTimeOffset? At);

public sealed record FeedbackRejection(int Index, string Error);

public sealed record FeedbackResponse(int Accepted, int Duplicates, IReadOnlyList<FeedbackRejection> Rejected);

/// <summary>An inbound SMS as the MTA posts it: the sender's number and the text.</summary>
public sealed record SmsInboundRequest(string? From, string? Text);

/// <summary>What an inbound SMS did.</summary>
public enum SmsInboundAction
{
    /// <summary>No opt-out keyword: accepted, nothing changed.</summary>
    None,

    /// <summary>An opt-out keyword: the number is now OnDenylist (R9.5, R11.2).</summary>
    Denylisted,
}

/// <summary>The answer to an inbound SMS: the number (normalized) and what was done.</summary>
public sealed record SmsInboundResponse(string From, SmsInboundAction Action);

public static partial class FeedbackEndpoints
{
    private const int CallsInFlight = 64;

    public static IEndpointRouteBuilder MapMtaFeedback(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/mta/feedback", PostAsync)
            .WithTags("MTA")
            .RequireAuthorization(Policies.Role(Roles.MtaFeedback));
        app.MapPost("/api/sms/inbound", PostInboundSmsAsync)
            .WithTags("MTA")
            .RequireAuthorization(Policies.Role(Roles.MtaFeedback));
        return app;
    }

    private static async Task<Results<Accepted<FeedbackResponse>, ValidationProblem>> PostAsync(
        List<FeedbackEventDto?> events, IGrainFactory grains, TimeProvider time, IOptions<ApiLimitsOptions> limits, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var limit = limits.Value;
        if (events.Count > limit.MaxFeedbackBatch)
        {
            return Problems.Invalid(new Dictionary<string, string[]>
            {
                ["body"] = [$"Send at most {limit.MaxFeedbackBatch:N0} events per request ({ApiLimitsOptions.Section}:{nameof(ApiLimitsOptions.MaxFeedbackBatch)}); this one has {events.Count:N0}."],
            });
        }

        var now = time.GetUtcNow();
        var outcomes = new (FeedbackOutcome? Outcome, string? Error)[events.Count];

        // One call per log with its events in the order they came: a log applies and stores them
        // together, so a log that settles (and gives its activation back) has none of this batch's
        // events still queued behind it, and events about one message are never raced against each other.
        var byLog = new Dictionary<(string DeliveryId, string ProfileId), List<(int Index, FeedbackEvent Event)>>();
        for (var index = 0; index < events.Count; index++)
        {
            var (feedback, error) = Parse(events[index], now, limit);
            if (feedback is null)
            {
                outcomes[index] = (null, error);
                continue;
            }

            var key = (feedback.DeliveryId, feedback.ProfileId);
            if (!byLog.TryGetValue(key, out var list))
            {
                byLog[key] = list = [];
            }

            list.Add((index, feedback));
        }

        var logger = loggers.CreateLogger(typeof(FeedbackEndpoints));
        using var gate = new SemaphoreSlim(CallsInFlight);
        await Task.WhenAll(byLog.Select(async entry =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var (deliveryId, profileId) = entry.Key;
                var log = grains.GetGrain<IRecipientLogGrain>(GrainKeys.Log(deliveryId, profileId));
                var batch = entry.Value.Select(e => e.Event).ToList();
                var answered = await TransientRetry.CallAsync(() => log.ApplyFeedbackBatchAsync(batch), logger, "Feedback", cancellationToken);
                for (var n = 0; n < entry.Value.Count; n++)
                {
                    outcomes[entry.Value[n].Index] = (answered[n], null);
                }
            }
            catch (NotFoundException ex)
            {
                foreach (var (index, _) in entry.Value)
                {
                    outcomes[index] = (null, ex.Message);
                }
            }
            catch (Exception ex) when (TransientRetry.IsTransient(ex))
            {
                // Still refused after every attempt (a silo is dying): nothing of it is answered as
                // accepted, so the MTA sends these again; their event ids make that harmless.
                LogNotStored(logger, entry.Value.Count, ex);
                foreach (var (index, _) in entry.Value)
                {
                    outcomes[index] = (null, NotStoredNow);
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        var rejected = outcomes.Select((o, i) => (o, i)).Where(x => x.o.Error is not null)
            .Select(x => new FeedbackRejection(x.i, x.o.Error!)).ToList();
        return TypedResults.Accepted((string?)null, new FeedbackResponse(
            outcomes.Count(o => o.Outcome == FeedbackOutcome.Accepted),
            outcomes.Count(o => o.Outcome == FeedbackOutcome.Duplicate),
            rejected));
    }

    /// <summary>The rejection of an event whose log could not be reached after every retry.</summary>
    public const string NotStoredNow = "The event could not be stored now (the cluster is recovering from a lost silo); send it again.";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feedback: {Count} events of one log could not be stored after every retry; answered as rejected")]
    private static partial void LogNotStored(ILogger logger, int count, Exception ex);

    /// <summary>
    /// R11.2: an SMS a recipient sent back. An opt-out keyword (<see cref="SmsOptOut"/>) puts the
    /// number OnDenylist (R9.5), so later SMS deliveries exclude it at preparation; any other text is
    /// accepted and changes nothing.
    /// </summary>
    private static async Task<Results<Accepted<SmsInboundResponse>, ValidationProblem>> PostInboundSmsAsync(
        SmsInboundRequest? request, IGrainFactory grains, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        var from = request?.From is { } raw ? AddressSyntax.Normalize(raw, Channel.Sms) : null;
        if (string.IsNullOrEmpty(from))
        {
            errors["from"] = ["Give the sender's number in E.164 form, e.g. \"+15550001\"."];
        }
        else if (!AddressSyntax.IsValid(from, Channel.Sms))
        {
            errors["from"] = [$"'{from}' is not an E.164 number: '+' then 8 to 15 digits, e.g. \"+15550001\"."];
        }

        if (request?.Text is null)
        {
            errors["text"] = ["Give the text of the message (it may be empty)."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var action = SmsInboundAction.None;
        if (SmsOptOut.IsOptOut(request!.Text))
        {
            await grains.GetGrain<IAddressBookGrain>(AddressBook.ShardOf(from!)).OptOutAsync(from!, time.GetUtcNow());
            action = SmsInboundAction.Denylisted;
        }

        return TypedResults.Accepted((string?)null, new SmsInboundResponse(from!, action));
    }

    private static (FeedbackEvent? Event, string? Error) Parse(FeedbackEventDto? dto, DateTimeOffset now, ApiLimitsOptions limits)
    {
        if (dto is null)
        {
            return (null, "The event is null.");
        }

        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(dto.EventId))
        {
            problems.Add("eventId is required");
        }

        if (string.IsNullOrWhiteSpace(dto.DeliveryId))
        {
            problems.Add("deliveryId is required");
        }
        else if (dto.DeliveryId.Contains('/') || DeliveryRules.HasControlCharacter(dto.DeliveryId))
        {
            problems.Add("deliveryId cannot contain '/' or control characters: give the id of the delivery the message belongs to");
        }

        if (string.IsNullOrWhiteSpace(dto.ProfileId))
        {
            problems.Add("profileId is required");
        }
        else if (DeliveryRules.HasControlCharacter(dto.ProfileId))
        {
            problems.Add("profileId cannot contain control characters");
        }

        if (!Enum.TryParse<FeedbackType>(dto.Type, ignoreCase: false, out var type) || !Enum.IsDefined(type))
        {
            problems.Add($"type '{dto.Type}' is not one of {string.Join(", ", Enum.GetNames<FeedbackType>())}");
        }

        FailureReason? reason = null;
        if (!string.IsNullOrEmpty(dto.Reason))
        {
            if (Enum.TryParse<FailureReason>(dto.Reason, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed))
            {
                reason = parsed;
            }
            else
            {
                problems.Add($"reason '{dto.Reason}' is not one of {string.Join(", ", Enum.GetNames<FailureReason>())}");
            }
        }

        if (dto.At is { } at && FeedbackWindow.Problem(at, now, limits.FeedbackClockSkew, limits.FeedbackMaxAge) is { } late)
        {
            problems.Add(late);
        }

        return problems.Count > 0
            ? (null, string.Join("; ", problems) + ".")
            : (new FeedbackEvent(dto.EventId!, dto.DeliveryId!, dto.ProfileId!, type, reason, dto.At ?? now), null);
    }
}
