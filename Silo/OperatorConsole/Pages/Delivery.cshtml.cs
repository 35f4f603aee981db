using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.OperatorConsole.Charts;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// The delivery page: the seed's Deployment block, kept live by <c>GET /api/deliveries/{id}/live</c>
/// (the page's script listens; no page polls), its charts, the exclusions by reason once prepared,
/// and the lifecycle buttons each role may use. Every handler calls the grain the API endpoint
/// calls and is refused by <see cref="RequiresRoleFilter"/> (403 naming the role) without the role.
/// </summary>
public sealed class DeliveryModel(IGrainFactory grains) : PageModel
{
    /// <summary>The exclusions listed one by one under their counts; the rest are counted only.</summary>
    public const int ExclusionRows = 50;

    [BindProperty(SupportsGet = true, Name = "id")]
    public string Id { get; set; } = "";

    /// <summary>What the last action did, after its redirect ("prepared", "confirmed", …).</summary>
    [BindProperty(SupportsGet = true, Name = "done")]
    public string? Done { get; set; }

    public DeliveryView View { get; private set; } = null!;

    public IReadOnlyList<TimelinePoint> Points { get; private set; } = [];

    /// <summary>The exclusions by reason (R2.1), when the user may read them and the delivery was prepared.</summary>
    public IReadOnlyList<(ExclusionReason Reason, int Count)>? ExclusionsByReason { get; private set; }

    public IReadOnlyList<ExclusionEntry> Exclusions { get; private set; } = [];

    /// <summary>Why the exclusions are not shown, when the user may not read this delivery's logs.</summary>
    public string? ExclusionsRefused { get; private set; }

    public bool MayReadLogs { get; private set; }

    /// <summary>R13.3: the tracked links' clicks (empty before the send started); null when the delivery has none to show (SMS, draft, recurring template).</summary>
    public IReadOnlyList<DeliveryGrains.Tracking.LinkCount>? Links { get; private set; }

    /// <summary>Rate, time left, deferrals and the per-domain table of the Deployment block.</summary>
    public DeploymentPace Pace { get; private set; } = new(null, null, 0, []);

    /// <summary>The Reports section's bounces by type and reason (R8.3): empty before the send started (the live stream fills them), null for a draft or a recurring template.</summary>
    public IReadOnlyList<BounceCount>? Bounces { get; private set; }

    /// <summary>Compute stats: the running figures read just before the recount, and the recount.</summary>
    public (Kpis Running, Kpis Recount)? Recount { get; private set; }

    public string? Error { get; private set; }

    /// <summary>False when the id names no delivery: the page says so (404).</summary>
    public bool Found { get; private set; }

    /// <summary>The recipient the preview is rendered for (R14.4); the target's first when none is chosen.</summary>
    [BindProperty(SupportsGet = true, Name = "preview")]
    public string? PreviewFor { get; set; }

    /// <summary>The content rendered for one recipient, when the user may preview (PrepareDeliveries).</summary>
    public ContentPreview? Preview { get; private set; }

    /// <summary>Why there is no preview (a profile outside the target, a template that hits a bound).</summary>
    public string? PreviewError { get; private set; }

    /// <summary>The content fields: the delivery's, or as typed when a change was refused.</summary>
    public ContentFields ContentForm { get; private set; } = ContentFields.Empty;

    public FieldMessages ContentErrors { get; } = new();

    /// <summary>A refused proof request: its addresses as typed and why, shown in the reopened dialog.</summary>
    public string ProofAddresses { get; private set; } = "";

    public string? ProofError { get; private set; }

    /// <summary>R2.4: content changes until the send is confirmed.</summary>
    public bool MayEditContent => User.May(ConsoleAction.EditContent) && View.Status is DeliveryStatus.Draft or DeliveryStatus.Ready;

    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>R14.1: saves the content fields; a template that does not parse is told beside its field, the typed text kept.</summary>
    [Requires(ConsoleAction.EditContent)]
    public async Task<IActionResult> OnPostContentAsync()
    {
        if (BadId() is { } bad)
        {
            return bad;
        }

        ContentForm = ContentFields.From(Request.Form);
        try
        {
            // All fields empty: back to the default content.
            await Delivery.ChangeAsync(new DeliveryChanges(null, null, null, null, Content: ContentForm.ToContent() ?? new MessageContent(null, null, null)), User.ToCaller());
        }
        catch (ValidationException ex)
        {
            ContentErrors.AddRules(ex.Errors);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await ShowAsync(keepStatus: true, keepContent: true);
        }
        catch (ConflictException ex)
        {
            Error = ex.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
            return await ShowAsync(keepStatus: true, keepContent: true);
        }
        catch (NotFoundException)
        {
            return Missing();
        }

        return RedirectToPage("/Delivery", new { id = Id, done = "content" });
    }

    /// <summary>R14.4: sends a proof to the addresses typed (commas, spaces or lines between them).</summary>
    [Requires(ConsoleAction.EditContent)]
    public async Task<IActionResult> OnPostProofAsync()
    {
        if (BadId() is { } bad)
        {
            return bad;
        }

        ProofAddresses = Request.Form["addresses"].ToString();
        var addresses = ProofAddresses.Split([',', ';', ' ', '\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
        try
        {
            var result = await Delivery.SendProofsAsync(addresses, string.IsNullOrWhiteSpace(PreviewFor) ? null : PreviewFor, User.ToCaller());
            if (result.Refused.Count > 0)
            {
                ProofError = $"Proof {result.Number} went to {result.Sent} of {addresses.Length}; refused: "
                    + string.Join("; ", result.Refused.Select(r => $"{r.Key} ({r.Value})"));
                Response.StatusCode = StatusCodes.Status502BadGateway;
                return await ShowAsync(keepStatus: true);
            }
        }
        catch (ValidationException ex)
        {
            ProofError = string.Join(" ", ex.Errors.SelectMany(e => e.Value));
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await ShowAsync(keepStatus: true);
        }
        catch (ConflictException ex)
        {
            ProofError = ex.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
            return await ShowAsync(keepStatus: true);
        }
        catch (NotFoundException)
        {
            return Missing();
        }

        return RedirectToPage("/Delivery", new { id = Id, done = "proof", preview = PreviewFor });
    }

    [Requires(ConsoleAction.PrepareDelivery)]
    public Task<IActionResult> OnPostPrepareAsync() => ActAsync("prepared", (d, c) => d.PrepareAsync(c));

    [Requires(ConsoleAction.ConfirmSend)]
    public Task<IActionResult> OnPostConfirmAsync() => ActAsync("confirmed", (d, c) => d.ConfirmSendAsync(c));

    [Requires(ConsoleAction.PauseResumeStop)]
    public Task<IActionResult> OnPostPauseAsync() => ActAsync("paused", (d, c) => d.PauseAsync(c));

    [Requires(ConsoleAction.PauseResumeStop)]
    public Task<IActionResult> OnPostResumeAsync() => ActAsync("resumed", (d, c) => d.ResumeAsync(c));

    [Requires(ConsoleAction.PauseResumeStop)]
    public Task<IActionResult> OnPostStopAsync() => ActAsync("stopped", (d, c) => d.StopAsync(c));

    /// <summary>R8.7: recounts from the logs and shows the recount beside the figures the page was showing.</summary>
    [Requires(ConsoleAction.ComputeStats)]
    public async Task<IActionResult> OnPostComputeStatsAsync()
    {
        if (BadId() is { } bad)
        {
            return bad;
        }

        try
        {
            var running = (await Delivery.GetViewAsync()).Kpis;
            var recount = await Delivery.ComputeStatsAsync(User.ToCaller());
            Recount = (running, recount);
        }
        catch (ConflictException ex)
        {
            Error = ex.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
        }
        catch (NotFoundException)
        {
            return Missing();
        }

        return await ShowAsync(keepStatus: true);
    }

    /// <summary>The figures that differ between the running KPIs and the recount, by their Deployment names.</summary>
    public static IReadOnlyList<(string Name, long Running, long Recount)> Differences(Kpis running, Kpis recount) =>
        [.. Figures(running).Zip(Figures(recount), (r, c) => (r.Name, Running: r.Value, Recount: c.Value)).Where(f => f.Running != f.Recount)];

    public static IEnumerable<(string Name, long Value)> Figures(Kpis k) =>
    [
        ("To deliver", k.ToDeliver), ("Sent", k.Sent), ("Delivered", k.Delivered), ("Bounces + errors", k.BouncesAndErrors),
        ("Opens", k.Opens), ("Clicks", k.Clicks), ("Pending", k.Pending), ("Awaiting retry", k.AwaitingRetry),
        ("Unsubscriptions", k.Unsubscriptions), ("Complaints", k.Complaints),
    ];

    public string ChartsMarkup => DeliveryCharts.Render(Points);

    private IDeliveryGrain Delivery => grains.GetGrain<IDeliveryGrain>(Id);

    private async Task<IActionResult> ActAsync(string done, Func<IDeliveryGrain, Caller, Task> action)
    {
        if (BadId() is { } bad)
        {
            return bad;
        }

        try
        {
            await action(Delivery, User.ToCaller());
        }
        catch (ConflictException ex)
        {
            Error = ex.Message;
            Response.StatusCode = StatusCodes.Status409Conflict;
            return await ShowAsync(keepStatus: true);
        }
        catch (NotFoundException)
        {
            return Missing();
        }

        return RedirectToPage("/Delivery", new { id = Id, done });
    }

    private async Task<IActionResult> ShowAsync(bool keepStatus = false, bool keepContent = false)
    {
        ViewData["Section"] = "deliveries";
        if (BadId() is { } bad)
        {
            return bad;
        }

        try
        {
            View = await Delivery.GetViewAsync();
        }
        catch (NotFoundException)
        {
            return Missing();
        }

        Found = true;
        ViewData["Title"] = View.Name;
        if (!keepContent)
        {
            ContentForm = ContentFields.Of(View.Mta.Content);
        }

        if (User.May(ConsoleAction.EditContent))
        {
            try
            {
                Preview = await Delivery.PreviewAsync(string.IsNullOrWhiteSpace(PreviewFor) ? null : PreviewFor.Trim(), User.ToCaller());
            }
            catch (ValidationException ex)
            {
                PreviewError = string.Join(" ", ex.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
            }
        }

        Points = (await Delivery.GetTimelineAsync()).Points;
        var started = View.Status is not (DeliveryStatus.Draft or DeliveryStatus.Ready or DeliveryStatus.Scheduled) && View.Recurrence is null;
        if (started)
        {
            // The partitions count these in parallel; none of them sends the logs themselves.
            var domains = Delivery.GetDomainsAsync();
            var bounces = Delivery.GetBouncesAsync();
            var links = View.Channel == Channel.Email ? Delivery.ListLinksAsync() : null;
            Pace = DeploymentPace.Of(View, Points, await domains, DateTimeOffset.UtcNow);
            Bounces = await bounces;
            Links = links is null ? null : await links;
        }
        else if (View.Status is DeliveryStatus.Ready or DeliveryStatus.Scheduled && View.Recurrence is null)
        {
            // Nothing to count yet, but the section is there for the live stream to fill once the send starts.
            Bounces = [];
            Links = View.Channel == Channel.Email ? [] : null;
        }

        if (View.Status != DeliveryStatus.Draft && View.Recurrence is null)
        {
            try
            {
                Exclusions = await Delivery.ListExclusionsAsync(User.ToCaller());
                ExclusionsByReason = [.. Exclusions.GroupBy(e => e.Reason).OrderBy(g => g.Key).Select(g => (g.Key, g.Count()))];
                MayReadLogs = true;
            }
            catch (MissingRoleException)
            {
                ExclusionsRefused = $"The exclusions and sending logs of this delivery are readable by an administrator or by its creator, {View.CreatedBy}.";
            }
        }

        if (!keepStatus)
        {
            Response.StatusCode = StatusCodes.Status200OK;
        }

        return Page();
    }

    private IActionResult? BadId()
    {
        if (RouteIds.Problem(new RouteValueDictionary { ["id"] = Id }) is { } errors)
        {
            Error = errors["id"][0];
            return Missing(StatusCodes.Status400BadRequest);
        }

        return null;
    }

    private IActionResult Missing(int status = StatusCodes.Status404NotFound)
    {
        ViewData["Section"] = "deliveries";
        ViewData["Title"] = "No such delivery";
        Found = false;
        Error ??= $"No delivery has the id '{Id}'.";
        Response.StatusCode = status;
        return Page();
    }
}
