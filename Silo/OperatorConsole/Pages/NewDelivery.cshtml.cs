using DeliveryGrains.Deliveries;
using DeliveryGrains.Hosting;
using DeliveryGrains.Mta.Smtp;
using DeliveryGrains.Silo.Api;
using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace DeliveryGrains.Silo.OperatorConsole.Pages;

/// <summary>
/// The New delivery form: the API's <c>POST /api/deliveries</c> as a page, checked by the same rules,
/// each message beside its field; an uploaded CSV is read by the Client's reader and its bad rows
/// told by line; a file over <c>Console:MaxUploadBytes</c> is refused with the limit.
/// </summary>
/// <remarks>
/// The form is read here rather than by model binding, after this request's body limit is raised to
/// the upload limit: antiforgery is checked on the form read that way (the automatic check would read
/// the body first, under the API's limit).
/// </remarks>
[Requires(ConsoleAction.CreateDelivery)]
[IgnoreAntiforgeryToken]
public sealed class NewDeliveryModel(
    IGrainFactory grains,
    IAntiforgery antiforgery,
    IProblemDetailsService problems,
    IOptions<OperatorConsoleOptions> console,
    IOptions<MtaOptions> mta,
    IOptions<SmtpOptions> smtp) : PageModel
{
    /// <summary>The fields the form shows a message beside; any other message is listed at the top.</summary>
    public static readonly IReadOnlySet<string> Placed = new HashSet<string>(StringComparer.Ordinal)
    {
        "name", "channel", "target", "recipients", "generatedTarget.count", "generatedTarget.domain", "generatedTarget.seed",
        "validityPeriod", "retryPeriod", "maxRetries", "sendAt", "recurrence.every", "recurrence.count", "recurrence.aggregationPeriod",
        "emailFeedbackService", "mta.kind", "mta.hardBounceRate", "mta.softBounceRate", "mta.retrySuccessRate", "mta.openRate", "mta.clickRate", "mta.feedbackDelay",
        "content.fromName", "content.subject", "content.html", "content.text",
    };

    public NewDeliveryForm Form { get; private set; } = null!;

    /// <summary>The content fields as typed (R14.1).</summary>
    public ContentFields ContentForm { get; private set; } = ContentFields.Empty;

    public FieldMessages Errors { get; } = new();

    public long MaxUploadBytes => console.Value.MaxUploadBytes;

    public void OnGet()
    {
        ViewData["Section"] = "new";
        Form = NewDeliveryForm.Defaults(mta.Value.Kind);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        ViewData["Section"] = "new";
        Form = NewDeliveryForm.Defaults(mta.Value.Kind);
        if (HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxUploadBytes + OperatorConsoleHostingExtensions.UploadFormOverhead;
        }

        IFormCollection form;
        try
        {
            form = await Request.ReadFormAsync(cancellationToken);
        }
        catch (Exception ex) when (IsTooLarge(ex))
        {
            return TooLarge(fileBytes: null);
        }

        try
        {
            await antiforgery.ValidateRequestAsync(HttpContext);
        }
        catch (AntiforgeryValidationException)
        {
            await AntiforgeryProblemFilter.WriteAsync(problems, HttpContext);
            return new EmptyResult();
        }

        Form = NewDeliveryForm.From(form);
        ContentForm = ContentFields.From(form);
        var file = form.Files.GetFile("targetFile");
        if (Form.TargetKind == NewDeliveryForm.Upload && file is { Length: var length } && length > MaxUploadBytes)
        {
            return TooLarge(length);
        }

        var channel = Enum.TryParse<Channel>(Form.Channel, ignoreCase: true, out var c) && Enum.IsDefined(c) ? c : Channel.Email;
        var target = Form.TargetKind == NewDeliveryForm.Upload ? await UploadedTarget.ReadAsync(file, channel, Errors, cancellationToken) : null;
        var definition = Form.ToDefinition(target?.Recipients, Errors);
        definition = definition with { Mta = definition.Mta with { Content = ContentForm.ToContent() } };
        var rules = DeliveryRules.Validate(definition);
        if (target is not null)
        {
            UploadedTarget.TellByLine(target, rules, Errors);
        }

        // A target that could not be read is already told; the rules would only add "give a target".
        Errors.AddRules(Form.TargetKind == NewDeliveryForm.Upload && target is null
            ? rules.Where(r => !UploadedTarget.IsTargetField(r.Key)).ToDictionary()
            : rules.Where(r => !(target is not null && r.Key.StartsWith("recipients[", StringComparison.Ordinal))).ToDictionary());
        if (definition.Mta.Kind == MtaKind.Smtp && !smtp.Value.IsConfigured)
        {
            Errors.Add("mta.kind", SmtpOptions.NotConfigured);
        }

        if (Errors.Count > 0)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var id = Guid.NewGuid().ToString("N");
        await grains.GetGrain<IDeliveryGrain>(id).CreateAsync(definition, User.ToCaller());
        return Redirect($"/deliveries/{id}");
    }

    private PageResult TooLarge(long? fileBytes)
    {
        Errors.Add("target", $"The file is {(fileBytes is { } bytes ? $"{Format.Bytes(bytes)}, " : "")}larger than the {Format.Bytes(MaxUploadBytes)} this silo takes (Console:MaxUploadBytes). Split the target, or use a generated target.");
        Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return Page();
    }

    private static bool IsTooLarge(Exception ex) => ex switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => true,
        InvalidDataException => true,
        _ => ex.InnerException is { } inner && IsTooLarge(inner),
    };
}
