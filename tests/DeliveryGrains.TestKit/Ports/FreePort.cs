using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace DeliveryGrains.TestKit.Ports;

/// <summary>
/// Loopback ports for anything a test binds later (a silo, its gateway, PostgreSQL, a stand-in
/// HTTP listener) or for an address nothing must answer on.
/// </summary>
/// <remarks>
/// A port the OS picks (port 0) comes from Linux's ephemeral range (32768–60999), so between the
/// answer and the bind any outgoing connection of the machine (to PostgreSQL, from another test
/// assembly running at the same time, a browser) may take it: "address already in use". Ports are
/// therefore chosen below that range, where only an explicit bind can land, checked free with a
/// listener, and never handed out twice in one process.
/// </remarks>
public static class FreePort
{
    public const int First = 20_000;
    public const int Last = 32_767;

    private static readonly ConcurrentDictionary<int, bool> HandedOut = new();

    /// <summary>A loopback port nothing listens on and that this process never handed out before.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(First, Last + 1);
            if (!HandedOut.TryAdd(port, true))
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Something listens there already: try another.
            }
        }

        throw new InvalidOperationException($"No free loopback port between {First} and {Last}.");
    }
}
