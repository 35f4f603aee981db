using DeliveryGrains.Deliveries;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// The content fields of a delivery as typed (R14.1): sender name, subject, HTML and text, kept as
/// they were sent so that a refused template is shown again beside its message. The field names are
/// the API's (<c>content.subject</c>…), so the rules' messages land beside them.
/// </summary>
public sealed record ContentFields(string FromName, string Subject, string Html, string Text)
{
    public static readonly IReadOnlyList<string> Names = ["content.fromName", "content.subject", "content.html", "content.text"];

    public static ContentFields Empty { get; } = new("", "", "", "");

    public static ContentFields Of(MessageContent? content) =>
        new(content?.FromName ?? "", content?.Subject ?? "", content?.Html ?? "", content?.Text ?? "");

    public static ContentFields From(IFormCollection form)
    {
        // Templates keep their own spacing: only the one-line fields are trimmed.
        string Text(string key, bool trim) => form.TryGetValue(key, out var value) ? (trim ? value.ToString().Trim() : value.ToString()) : "";
        return new(Text("content.fromName", true), Text("content.subject", true), Text("content.html", false), Text("content.text", false));
    }

    /// <summary>The content these fields give; null when every field is empty (the defaults then apply).</summary>
    public MessageContent? ToContent() =>
        FromName.Length + Subject.Length + Html.Trim().Length + Text.Trim().Length == 0
            ? null
            : new MessageContent(
                Subject.Length == 0 ? null : Subject,
                Text.Trim().Length == 0 ? null : Text.ReplaceLineEndings("\n"),
                Html.Trim().Length == 0 ? null : Html.ReplaceLineEndings("\n"),
                FromName: FromName.Length == 0 ? null : FromName);
}

/// <summary>What the content fields partial shows: the fields, their messages, and whether the text is an SMS.</summary>
public sealed record ContentFieldsView(ContentFields Fields, FieldMessages Errors, bool Sms, bool SmsToggledByChannel);
