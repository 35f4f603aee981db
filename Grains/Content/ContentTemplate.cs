using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using DeliveryGrains.Deliveries;
using Fluid;

namespace DeliveryGrains.Content;

/// <summary>
/// R14.3: the values of the links every message may show, chosen by whoever sends it: the
/// unsubscribe link and the link to the message's web page. Empty when the sender has none.
/// </summary>
public sealed record MessageLinks(string UnsubscribeUrl, string MirrorPageUrl)
{
    public static readonly MessageLinks None = new("", "");
}

/// <summary>Who a message is rendered for: the recipient's profile, address and the target's fields.</summary>
public sealed record RecipientValues(string ProfileId, string Address, IReadOnlyDictionary<string, string>? Fields = null);

/// <summary>One recipient's message: its subject, HTML part (null when the content has none) and text part.</summary>
public sealed record RenderedContent(string Subject, string? Html, string? Text)
{
    /// <summary>Whether <see cref="Html"/> is tracked already (R13.1, from the content's tracked form); otherwise the caller tracks it.</summary>
    public bool HtmlTracked { get; init; }
}

/// <summary>A template that parsed but could not be rendered for a recipient (a bound was reached): the message fails, never the silo.</summary>
public sealed class TemplateRenderException(string field, string reason)
    : Exception($"{field}: {reason}")
{
    public string Field { get; } = field;

    public string Reason { get; } = reason;
}

/// <summary>
/// R14.1: a delivery's content parsed once and rendered per recipient. The recipient's values are
/// variables (<c>profileId</c>, <c>address</c> and <c>email</c>, every field of the target, names
/// compared without case), with <c>unsubscribeUrl</c> and <c>mirrorPageUrl</c> always there (R14.3).
/// Rendering is bounded in steps, recursion and output, so a template that loops for ever fails its
/// message with a reason. Values are HTML-encoded in the HTML part only. Without <c>content.text</c>,
/// an email's text part is made from its rendered HTML (R14.2).
/// </summary>
public sealed class ContentTemplate
{
    /// <summary>Statements one part may execute: far above any real message, far below a hang.</summary>
    public const int MaxSteps = 200_000;

    /// <summary>The most characters one rendered part may hold (the stored content is bounded at 1,000,000 too).</summary>
    public const int MaxOutputCharacters = 2_000_000;

    private static readonly TemplateOptions Options = BuildOptions();

    /// <summary>The options of a text part derived from the HTML (R14.2): the same bounds, and the derived template's link filter.</summary>
    private static readonly TemplateOptions DerivedOptions = BuildOptions(DerivedText.AddFilter);

    /// <summary>Encodes markup characters only: accented letters and emoji stay as they are in the HTML.</summary>
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>One parse per content record: a partition holds its delivery's settings once, so every message of it shares the parse.</summary>
    private static readonly ConditionalWeakTable<MessageContent, ContentTemplate> Parsed = new();

    private readonly IFluidTemplate _subject;
    private readonly IFluidTemplate? _html;
    private readonly IFluidTemplate? _text;

    /// <summary>The text part derived once from the HTML template (R14.2); null when each rendered HTML is read instead.</summary>
    private readonly IFluidTemplate? _derivedText;

    /// <summary>The HTML part's tracked form made once (R13.1); null when the content is not tracked or each rendered HTML is rewritten instead.</summary>
    private readonly TrackedHtml? _tracked;

    private ContentTemplate(MessageContent content)
    {
        _subject = ParseOrThrow("content.subject", content.Subject ?? MessageContent.Default.Subject!);
        _html = content.Html is null ? null : ParseOrThrow("content.html", content.Html);
        var text = content.Text ?? (content.Html is null ? MessageContent.Default.Text : null);
        _text = text is null ? null : ParseOrThrow("content.text", text);
        if (_text is null && content.Html is not null && DerivedText.Derive(TemplateSyntax.Translate(content.Html).Liquid) is { } derived)
        {
            _derivedText = TemplateSyntax.Parser.TryParse(derived, out var parsed, out _) ? parsed : null;
        }

        if (content.Tracked)
        {
            _tracked = TrackedHtml.Derive(TemplateSyntax.Translate(content.Html!).Liquid);
        }
    }

    /// <summary>Whether the text part is rendered from a template derived from the HTML rather than read from each rendered HTML.</summary>
    internal bool DerivesText => _derivedText is not null;

    /// <summary>Whether a tracked HTML part is made from the tracked form rather than by rewriting each rendered HTML.</summary>
    internal bool TracksOnce => _tracked is not null;

    /// <summary>
    /// The links a click URL may name by index alone (R13.1): the tracked form's, in its order; empty
    /// when the content is not tracked or has no tracked form (every click URL then carries its URL).
    /// </summary>
    public IReadOnlyList<string> TrackedLinks => _tracked?.Links ?? [];

    /// <summary>The parsed form of <paramref name="content"/> (null: the default content), parsed on first use.</summary>
    public static ContentTemplate For(MessageContent? content) =>
        Parsed.GetValue(content ?? MessageContent.Default, static c => new ContentTemplate(c));

    /// <summary>
    /// Renders every part for one recipient; throws <see cref="TemplateRenderException"/> naming the part
    /// that failed. With <paramref name="tracking"/> the HTML part comes tracked when the content has a
    /// tracked form (<see cref="RenderedContent.HtmlTracked"/>); the caller tracks it otherwise.
    /// </summary>
    public RenderedContent Render(RecipientValues recipient, MessageLinks links, HtmlTracking? tracking = null)
    {
        var subject = RenderPart("content.subject", _subject, recipient, links, NullEncoder.Default);
        var mark = HasMark(recipient, links);
        var tracked = tracking is not null && _tracked is not null && !mark && !AnyValue(recipient, links, static v => v.Contains('\r'))
            ? _tracked.Fill(RenderPart("content.html", _tracked.Template, recipient, links, Html), tracking)
            : null;

        // The untracked HTML is rendered only when something reads it: the message, or the text part made from it.
        var html = _html is not null && (tracked is null || (_text is null && _derivedText is null))
            ? RenderPart("content.html", _html, recipient, links, Html)
            : null;
        var text = _text is not null ? RenderPart("content.text", _text, recipient, links, NullEncoder.Default)
            : _html is null ? null
            : _derivedText is not null && !mark
                ? DerivedText.Replay(RenderPart("content.html", _derivedText, recipient, links, NullEncoder.Default, DerivedOptions))
            : HtmlText.From(html!);

        // A subject is one header line: a field holding a line break must not start another header.
        return new RenderedContent(subject.ReplaceLineEndings(" "), tracked ?? html, text) { HtmlTracked = tracked is not null };
    }

    /// <summary>A value holding the derived template's layout marks would be laid out by them: such a message is read from its HTML.</summary>
    private static bool HasMark(RecipientValues recipient, MessageLinks links) => AnyValue(recipient, links, DerivedText.HasMark);

    /// <summary>
    /// Whether a value (or a field's name) of the message is such. A carriage return is one for the
    /// tracked form: Liquid writes it as a reference the document keeps, while the per-message rewrite
    /// writes it raw and a reader's parser makes a line feed of it, so that message is rewritten whole.
    /// </summary>
    private static bool AnyValue(RecipientValues recipient, MessageLinks links, Func<string, bool> test)
    {
        if (test(recipient.ProfileId) || test(recipient.Address) || test(links.UnsubscribeUrl) || test(links.MirrorPageUrl))
        {
            return true;
        }

        if (recipient.Fields is { } fields)
        {
            foreach (var (name, value) in fields)
            {
                if (test(value) || test(name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static TemplateOptions BuildOptions(Func<TemplateOptionsBuilder, TemplateOptionsBuilder>? extend = null)
    {
        var options = new TemplateOptionsBuilder()
            .WithMaxSteps(MaxSteps)
            .WithMaxOutputSize(MaxOutputCharacters)
            .WithMaxRecursion(20)
            .WithMaxCollectionSize(100_000)
            .WithFileProvider(new NoFiles())
            .WithCultureInfo(CultureInfo.InvariantCulture)
            .WithTimeZone(TimeZoneInfo.Utc);
        return (extend?.Invoke(options) ?? options).Build();
    }

    private static IFluidTemplate ParseOrThrow(string field, string source) =>
        TemplateSyntax.TryParse(source, out var template, out var error)
            ? template!
            : throw new TemplateRenderException(field, error!.ToString());

    private static string RenderPart(string field, IFluidTemplate template, RecipientValues recipient, MessageLinks links, TextEncoder encoder, TemplateOptions? options = null)
    {
        var context = new TemplateContext(options ?? Options);
        if (recipient.Fields is { } fields)
        {
            foreach (var (name, value) in fields)
            {
                context.SetValue(name, value);
            }
        }

        // The recipient's own values come after the fields: a field cannot pass for the address.
        context.SetValue("profileId", recipient.ProfileId);
        context.SetValue("address", recipient.Address);
        context.SetValue("email", recipient.Address);
        context.SetValue("unsubscribeUrl", links.UnsubscribeUrl);
        context.SetValue("mirrorPageUrl", links.MirrorPageUrl);
        try
        {
            return template.Render(context, encoder);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException
            or NotSupportedException or IOException or InsufficientExecutionStackException)
        {
            throw new TemplateRenderException(field, ex.Message);
        }
    }

    /// <summary>No file is ever found: templates cannot include or render others (the tags are not parsed either).</summary>
    private sealed class NoFiles : ITemplateFileProvider
    {
        public ValueTask<TemplateSourceInfo> GetFileInfoAsync(string path, TemplateContext context, CancellationToken cancellationToken) =>
            throw new NotSupportedException("A template cannot read other templates or files.");
    }
}
