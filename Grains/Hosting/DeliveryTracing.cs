using System.Diagnostics;

namespace DeliveryGrains.Hosting;

/// <summary>The engine's own spans (the SMTP relay's transactions); exported only when a tracer listens (OTLP configured).</summary>
public static class DeliveryTracing
{
    public const string SourceName = "DeliveryGrains";

    public static readonly ActivitySource Source = new(SourceName);
}
