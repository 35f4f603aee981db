using System.Globalization;
using System.Security.Claims;
using System.Text;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Logs;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryGrains.Silo.Api;

/// <summary>
/// A delivery's sending logs and exclusions as CSV (RFC 4180), for the delivery's creator or an
/// administrator. Written while it is read: one partition's chunk at a time, flushed, so the silo holds
/// a chunk whatever the delivery's size and the first rows leave before the last are read.
/// </summary>
public static class ExportEndpoints
{
    /// <summary>Logs fetched from a partition per call: enough to keep the grain calls a small share of the time.</summary>
    public const int ChunkSize = 4096;

    public const string CsvType = "text/csv; charset=utf-8";

    public static IEndpointRouteBuilder MapExports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/deliveries/{id}/export").WithTags("Deliveries").RequireAuthorization().ValidateRouteIds();
        group.MapGet("/logs", ExportLogsAsync)
            .WithSummary("The delivery's sending logs that the filters keep, as CSV, streamed partition by partition.");
        group.MapGet("/exclusions", ExportExclusionsAsync)
            .WithSummary("Every exclusion of the delivery (R2.1) as CSV, streamed.");
        return app;
    }

    private static async Task<Results<EmptyHttpResult, ValidationProblem>> ExportLogsAsync(
        string id, string? status, string? failureType, string? failureReason, string? q, HttpContext http, ClaimsPrincipal user, IGrainFactory grains)
    {
        var query = DeliveryEndpoints.ParseLogQuery(status, failureType, failureReason, q, null, null, out var errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        // Refusals (unknown delivery, not a reader) are thrown here, before the first byte of the answer.
        var export = await grains.GetGrain<IDeliveryGrain>(id).OpenLogExportAsync(user.ToCaller());
        var filter = query.Filter;
        var cancel = http.RequestAborted;
        var csv = Begin(http, $"{id}-logs.csv");
        await csv.WriteAsync("profileId,address,status,failureType,failureReason,attempts,relayedAt,lastEventAt,opened,clicked\r\n");
        var line = new StringBuilder(ChunkSize * 128);
        try
        {
            for (var p = 0; p < export.PartitionCount; p++)
            {
                var partition = grains.GetGrain<IDeliveryPartitionGrain>(GrainKeys.Partition(id, p));
                int? after = -1;
                while (after is { } from)
                {
                    cancel.ThrowIfCancellationRequested();
                    var page = await partition.ListLogsAsync(from, filter, ChunkSize, int.MaxValue, export.EmailFeedbackService);
                    line.Clear();
                    foreach (var log in page.Items)
                    {
                        Field(line, log.ProfileId).Append(',');
                        Field(line, log.Address).Append(',');
                        line.Append(log.Status).Append(',')
                            .Append(log.FailureType?.ToString()).Append(',')
                            .Append(log.FailureReason?.ToString()).Append(',')
                            .Append(log.Attempts.ToString(CultureInfo.InvariantCulture)).Append(',');
                        Instant(line, log.RelayedAt).Append(',');
                        Instant(line, log.LastEventAt).Append(',');
                        line.Append(log.Opened ? "true" : "false").Append(',').Append(log.Clicked ? "true" : "false").Append("\r\n");
                    }

                    await csv.WriteAsync(line, cancel);
                    await csv.FlushAsync(cancel);
                    after = page.NextAfter;
                }
            }

            await csv.FlushAsync(cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The reader went away mid-file (a cancelled download): nothing more to write, nothing to report.
        }

        return TypedResults.Empty;
    }

    private static async Task<Results<EmptyHttpResult, ValidationProblem>> ExportExclusionsAsync(
        string id, HttpContext http, ClaimsPrincipal user, IGrainFactory grains)
    {
        var delivery = grains.GetGrain<IDeliveryGrain>(id);
        var caller = user.ToCaller();
        var page = await delivery.PageExclusionsAsync(0, ChunkSize, caller);
        var cancel = http.RequestAborted;
        var csv = Begin(http, $"{id}-exclusions.csv");
        await csv.WriteAsync("profileId,address,reason\r\n");
        var line = new StringBuilder(ChunkSize * 64);
        try
        {
            for (var offset = 0; ;)
            {
                line.Clear();
                foreach (var e in page.Items)
                {
                    Field(line, e.ProfileId).Append(',');
                    Field(line, e.Address ?? "").Append(',').Append(e.Reason).Append("\r\n");
                }

                await csv.WriteAsync(line, cancel);
                await csv.FlushAsync(cancel);
                offset += page.Items.Count;
                if (page.Items.Count == 0 || offset >= page.Total)
                {
                    break;
                }

                page = await delivery.PageExclusionsAsync(offset, ChunkSize, caller);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The reader went away mid-file: nothing more to write.
        }

        return TypedResults.Empty;
    }

    /// <summary>
    /// The answer's headers and a writer over its body. Never disposed: that would flush into a body whose
    /// reader may be gone; each chunk is flushed as it is written and the server ends the body.
    /// </summary>
    private static StreamWriter Begin(HttpContext http, string fileName)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = CsvType;
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        http.Response.Headers.CacheControl = "no-store";
        return new StreamWriter(http.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 * 1024);
    }

    /// <summary>
    /// A value quoted when it holds a comma, a quote or a line break (RFC 4180), its quotes doubled; one a
    /// spreadsheet would run as a formula (<see cref="RunsAsFormula"/>) is written after a <c>'</c>, which the
    /// spreadsheet shows as text: a profile id or an address comes from whoever wrote the target.
    /// </summary>
    public static StringBuilder Field(StringBuilder line, string value)
    {
        var text = RunsAsFormula(value) ? "'" + value : value;
        if (text.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return line.Append(text);
        }

        return line.Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    /// <summary>
    /// Whether a cell starting so would be read as a formula (OWASP's CSV injection): <c>=</c>, <c>@</c>, a tab,
    /// a carriage return; <c>+</c> or <c>-</c> too, unless the whole value is a plain number or phone number
    /// (<c>+33612345678</c>, <c>-12.5</c>), which a spreadsheet reads as the number it is.
    /// </summary>
    public static bool RunsAsFormula(string value) => value.Length > 0 && value[0] switch
    {
        '=' or '@' or '\t' or '\r' => true,
        '+' or '-' => !IsPlainNumber(value.AsSpan(1)),
        _ => false,
    };

    /// <summary>Digits, with at most one decimal point between them.</summary>
    private static bool IsPlainNumber(ReadOnlySpan<char> rest)
    {
        var point = rest.IndexOf('.');
        var whole = point < 0 ? rest : rest[..point];
        var fraction = point < 0 ? [] : rest[(point + 1)..];
        return whole.Length > 0 && !whole.ContainsAnyExceptInRange('0', '9')
            && (point < 0 || (fraction.Length > 0 && !fraction.ContainsAnyExceptInRange('0', '9')));
    }

    private static StringBuilder Instant(StringBuilder line, DateTimeOffset? at) =>
        at is { } value ? line.Append(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)) : line;
}
