using System.Runtime.CompilerServices;
using DeliveryGrains.Deliveries;
using DeliveryGrains.Mta;
using DeliveryGrains.Mta.Smtp;

namespace DeliveryGrains.Tests.Smtp;

/// <summary>What the factory's messages hold on to once they are sent (issue 23: one shared From kept every message alive).</summary>
public sealed class SmtpMessageFactoryTests
{
    private static readonly SmtpMessageFactory Factory = new(MimeKit.MailboxAddress.Parse("News <news@sender.test>"), "bounces.sender.test");

    [Fact]
    [Trait("Rule", "R12.1")]
    public void A_built_message_is_collected_once_nothing_of_the_caller_holds_it()
    {
        var built = BuildAndForget(Factory, count: 50);

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);

        Assert.All(built, message => Assert.False(message.IsAlive, "a built message is still reachable from the factory"));
    }

    [Fact]
    [Trait("Rule", "R12.1")]
    public void Every_message_names_the_configured_sender()
    {
        var (message, _) = Factory.Build(Outbound("p-1", "ann@example.test"), DateTimeOffset.UnixEpoch);

        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(("News", "news@sender.test"), (from.Name, from.Address));
    }

    /// <summary>Not inlined, so no local of the test's own frame keeps a message reachable.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> BuildAndForget(SmtpMessageFactory factory, int count)
    {
        var built = new List<WeakReference>(count);
        for (var i = 0; i < count; i++)
        {
            var (message, _) = factory.Build(Outbound($"p-{i}", $"user{i}@example.test"), DateTimeOffset.UnixEpoch);
            built.Add(new WeakReference(message));
        }

        return built;
    }

    private static OutboundMessage Outbound(string profileId, string address) =>
        new("d-leak", 0, 0, profileId, address, Channel.Email, 1, EmailFeedbackService: false, new MtaSettings(MtaKind.Smtp));
}
