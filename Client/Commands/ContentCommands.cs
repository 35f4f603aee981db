using System.ComponentModel;
using DeliveryGrains.Client.Hosting;
using DeliveryGrains.Client.Rendering;
using DeliveryGrains.Content;
using DeliveryGrains.Deliveries;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Commands;

public sealed class PreviewSettings : DeliverySettings
{
    [CommandOption("--profile <PROFILE_ID>")]
    [Description("Render for this recipient of the target (default: the first).")]
    public string? ProfileId { get; set; }

    [CommandOption("--html")]
    [Description("Also print the HTML part as it is (it is left out by default: it is long).")]
    public bool Html { get; set; }
}

/// <summary><c>preview ID</c>: the content rendered for one recipient of the target, sent nowhere (R14.4, R14.5).</summary>
public sealed class PreviewCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<PreviewSettings>(connection)
{
    protected override async Task<int> RunAsync(PreviewSettings settings, CancellationToken cancellationToken)
    {
        var preview = await grains.GetGrain<IDeliveryGrain>(settings.Id).PreviewAsync(
            string.IsNullOrWhiteSpace(settings.ProfileId) ? null : settings.ProfileId.Trim(), caller);
        if (settings.Json)
        {
            console.WriteJson(preview);
            return ExitCodes.Ok;
        }

        console.WriteUnwrappedLine($"For:      {preview.ProfileId}");
        if (preview.FromName is { Length: > 0 } fromName)
        {
            console.WriteUnwrappedLine($"From:     {fromName}");
        }

        console.WriteUnwrappedLine($"Subject:  {preview.Subject}");
        if (preview.SmsLength is { } sms)
        {
            console.WriteUnwrappedLine($"Length:   {sms.Characters} characters, {sms.Segments} segment{(sms.Segments == 1 ? "" : "s")} ({sms.Encoding}) (R14.5)");
        }

        if (preview.Text is { } text)
        {
            console.WriteUnwrappedLine("Text:");
            console.WriteText(text.TrimEnd('\n'));
        }

        if (preview.Html is { } html)
        {
            if (settings.Html)
            {
                console.WriteUnwrappedLine("HTML:");
                console.WriteText(html.TrimEnd('\n'));
            }
            else
            {
                console.WriteUnwrappedLine($"HTML:     {html.Length:N0} characters ({NextSteps.Command("preview", $"{settings.Id} --html")} prints it).");
            }
        }

        return ExitCodes.Ok;
    }
}

public sealed class ProofSettings : DeliverySettings
{
    [CommandOption("--to <ADDRESS>")]
    [Description("An address to send the proof to; repeat it for several (at most 10).")]
    public string[] To { get; set; } = [];

    [CommandOption("--profile <PROFILE_ID>")]
    [Description("Show the message as this recipient of the target gets it (default: the first).")]
    public string? ProfileId { get; set; }

    public override ValidationResult Validate()
    {
        var basic = base.Validate();
        return !basic.Successful ? basic
            : To.Length == 0 ? ValidationResult.Error("Give at least one --to ADDRESS to send the proof to.")
            : To.Length > ProofRules.MaxAddresses ? ValidationResult.Error($"A proof goes to at most {ProofRules.MaxAddresses} addresses; give fewer --to.")
            : ValidationResult.Success();
    }
}

/// <summary><c>proof ID --to ADDRESS</c>: sends the content, subject prefixed "[Proof N]", through the delivery's MTA; no KPI or log moves (R14.4).</summary>
public sealed class ProofCommand(IGrainFactory grains, IAnsiConsole console, Caller caller, IClusterConnection connection)
    : ClientCommand<ProofSettings>(connection)
{
    protected override async Task<int> RunAsync(ProofSettings settings, CancellationToken cancellationToken)
    {
        var result = await grains.GetGrain<IDeliveryGrain>(settings.Id).SendProofsAsync(
            settings.To, string.IsNullOrWhiteSpace(settings.ProfileId) ? null : settings.ProfileId.Trim(), caller);
        if (settings.Json)
        {
            console.WriteJson(new { sent = result.Sent, number = result.Number, refused = result.Refused });
        }
        else
        {
            console.WriteUnwrappedLine($"Proof {result.Number} sent to {result.Sent} of {settings.To.Length} address{(settings.To.Length == 1 ? "" : "es")}.");
            foreach (var (address, reason) in result.Refused)
            {
                CliErrors.Line(console, $"{address}: refused: {reason}");
            }
        }

        return result.Refused.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
