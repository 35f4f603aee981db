using System.Globalization;
using DeliveryGrains.Addresses;
using DeliveryGrains.Content;
using DeliveryGrains.Mta;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeliveryGrains.Deliveries;

/// <summary>R14.4: previews and proofs of a delivery's content. Neither touches a partition, a log or a KPI.</summary>
public sealed partial class DeliveryGrain
{
    public Task<ContentPreview> PreviewAsync(string? profileId, Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Previewing a delivery");
        var definition = Definition;
        var recipient = RecipientFor(definition, profileId);
        var content = definition.Mta.Content;
        var rendered = RenderOrRefuse(content, recipient);
        return Task.FromResult(new ContentPreview(
            recipient.ProfileId,
            rendered.Subject,
            definition.Channel == Channel.Sms ? null : rendered.Html,
            rendered.Text,
            definition.Channel == Channel.Sms ? SmsLength.Of(rendered.Text) : null,
            content?.FromName,
            FirstProfileIds(definition)));
    }

    private static List<string> FirstProfileIds(DeliveryDefinition definition) =>
        definition.Recipients is { } recipients
            ? [.. recipients.Where(r => !string.IsNullOrEmpty(r.Address)).Take(ContentPreview.SwitchableRecipients).Select(r => r.ProfileId)]
            : definition.GeneratedTarget is { } generated
                ? [.. Enumerable.Range(0, Math.Min(generated.Count, ContentPreview.SwitchableRecipients)).Select(i => TargetResolution.GeneratedRecipient(generated, i).ProfileId)]
                : [];

    public async Task<ProofResult> SendProofsAsync(IReadOnlyList<string> addresses, string? profileId, Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Sending a proof");
        var definition = Definition;
        var to = ProofAddresses(addresses, definition.Channel);
        var recipient = RecipientFor(definition, profileId);
        RenderOrRefuse(definition.Mta.Content, recipient);
        if (definition.Mta.Kind == MtaKind.External)
        {
            throw new ConflictException(
                $"Delivery '{Id}' relays through an External MTA, which takes messages from its logs only: proofs go through the Simulated or Smtp MTA (R14.4).");
        }

        var number = S.ProofCount + 1;
        var outbound = new OutboundMessage(Id, -1, -1, recipient.ProfileId, recipient.Address!, definition.Channel, 1,
            EmailFeedbackService: false, definition.Mta, recipient.Fields is { Count: > 0 } f ? f : null);
        var refused = await ServiceProvider.GetRequiredService<ProofRoad>().SendAsync(outbound, number, to);

        S.ProofCount = number;
        S.Proofs.Add(new ProofEntry(number, time.GetUtcNow(), to, caller.Name, recipient.ProfileId));
        if (S.Proofs.Count > ProofRules.Kept)
        {
            S.Proofs.RemoveRange(0, S.Proofs.Count - ProofRules.Kept);
        }

        await Writer.SaveAsync();
        LogProofSent(Id, number, to.Count - refused.Count, refused.Count);
        return new ProofResult(number, to.Count - refused.Count, refused);
    }

    /// <summary>The proof's addresses in normal form; 400 naming what to fix when there are none, too many or a bad one.</summary>
    private static List<string> ProofAddresses(IReadOnlyList<string>? addresses, Channel channel)
    {
        var errors = new List<string>();
        var normalized = new List<string>();
        if (addresses is null || addresses.Count == 0)
        {
            errors.Add($"Give 1 to {ProofRules.MaxAddresses} addresses to send the proof to.");
        }
        else if (addresses.Count > ProofRules.MaxAddresses)
        {
            errors.Add($"A proof goes to at most {ProofRules.MaxAddresses} addresses; this one lists {addresses.Count}.");
        }
        else
        {
            for (var i = 0; i < addresses.Count; i++)
            {
                var address = addresses[i] is { Length: <= DeliveryRules.MaxAddressLength } a ? AddressSyntax.Normalize(a, channel) : null;
                if (address is null || !AddressSyntax.IsValid(address, channel))
                {
                    errors.Add($"addresses[{i}]: '{addresses[i]}' is not {(channel == Channel.Sms ? "a phone number such as +15550001002" : "an email address such as ann@example.com")}.");
                }
                else if (!normalized.Contains(address, StringComparer.Ordinal))
                {
                    normalized.Add(address);
                }
            }
        }

        return errors.Count > 0 ? throw new ValidationException(new Dictionary<string, string[]> { ["addresses"] = [.. errors] }) : normalized;
    }

    /// <summary>The target's recipient <paramref name="profileId"/>, or its first; 400 when the target has no such profile.</summary>
    private static Recipient RecipientFor(DeliveryDefinition definition, string? profileId)
    {
        Recipient? found = null;
        if (definition.Recipients is { } recipients)
        {
            found = profileId is null
                ? recipients.FirstOrDefault(r => !string.IsNullOrEmpty(r.Address))
                : recipients.FirstOrDefault(r => string.Equals(r.ProfileId, profileId, StringComparison.Ordinal));
        }
        else if (definition.GeneratedTarget is { } generated)
        {
            var index = profileId is null ? 0 : GeneratedIndex(generated, profileId);
            found = index is >= 0 && index < generated.Count ? TargetResolution.GeneratedRecipient(generated, index, definition.Channel) : null;
        }

        if (found is { Address: { Length: > 0 } })
        {
            return found;
        }

        var problem = profileId is null
            ? "The target has no recipient with an address to render the content for."
            : found is not null
                ? $"Profile '{profileId}' has no address in the target; choose a recipient that has one, or none for the first."
                : $"Profile '{profileId}' is not a recipient of this delivery's target; give one of its profile ids, or none for the first.";
        throw new ValidationException(new Dictionary<string, string[]> { ["profileId"] = [problem] });
    }

    /// <summary>A generated profile id is <c>g{seed}-{index}</c>; -1 for any other id.</summary>
    private static int GeneratedIndex(GeneratedTarget target, string profileId)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture, $"g{target.Seed}-");
        return profileId.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(profileId.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && string.Equals(TargetResolution.GeneratedRecipient(target, i).ProfileId, profileId, StringComparison.Ordinal)
            ? i
            : -1;
    }

    /// <summary>The content rendered for one recipient; a template that fails to render is a 400 naming its part.</summary>
    private RenderedContent RenderOrRefuse(MessageContent? content, Recipient recipient)
    {
        try
        {
            return ContentTemplate.For(content).Render(
                new RecipientValues(recipient.ProfileId, recipient.Address!, recipient.Fields),
                ServiceProvider.GetRequiredService<ProofRoad>().LinksFor(Id, recipient.ProfileId));
        }
        catch (TemplateRenderException ex)
        {
            throw new ValidationException(new Dictionary<string, string[]> { [ex.Field] = [ex.Reason] });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: proof {Number} sent to {Sent} address(es), {Refused} refused")]
    private partial void LogProofSent(string deliveryId, int number, int sent, int refused);
}
