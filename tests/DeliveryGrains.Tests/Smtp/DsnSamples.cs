namespace DeliveryGrains.Tests.Smtp;

/// <summary>Delivery status notifications written for these tests in the shape RFC 3464 gives (multipart/report).</summary>
public static class DsnSamples
{
    /// <summary>
    /// A report from mx.example.net about one recipient. <paramref name="to"/> is where the report is
    /// addressed (the VERP sender, or any address); <paramref name="returnedMessageId"/> goes into the
    /// returned headers (text/rfc822-headers) when given; <paramref name="envelopeId"/> into Original-Envelope-Id.
    /// </summary>
    public static string Report(
        string to, string recipient, string action, string? status, string? diagnostic = null,
        string? returnedMessageId = null, string? envelopeId = null, string? reportId = null)
    {
        var id = reportId ?? $"{Guid.NewGuid():N}@mx.example.net";
        var envelope = envelopeId is null ? "" : $"Original-Envelope-Id: {envelopeId}\r\n";
        var statusLine = status is null ? "" : $"Status: {status}\r\n";
        var diagnosticLine = diagnostic is null ? "" : $"Diagnostic-Code: smtp; {diagnostic}\r\n";
        var returned = returnedMessageId is null ? "" :
            "--REPORT-BOUNDARY\r\n" +
            "Content-Type: text/rfc822-headers\r\n" +
            "\r\n" +
            "From: News <news@sender.test>\r\n" +
            $"To: {recipient}\r\n" +
            "Subject: A message for you\r\n" +
            $"Message-ID: <{returnedMessageId}>\r\n" +
            "\r\n";
        return
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n" +
            $"To: <{to}>\r\n" +
            "Subject: Delivery Status Notification\r\n" +
            "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n" +
            $"Message-ID: <{id}>\r\n" +
            "MIME-Version: 1.0\r\n" +
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"REPORT-BOUNDARY\"\r\n" +
            "\r\n" +
            "--REPORT-BOUNDARY\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\n" +
            "\r\n" +
            $"This is the mail system at host mx.example.net. Your message to {recipient} was {action}.\r\n" +
            "\r\n" +
            "--REPORT-BOUNDARY\r\n" +
            "Content-Type: message/delivery-status\r\n" +
            "\r\n" +
            "Reporting-MTA: dns; mx.example.net\r\n" +
            envelope +
            "Arrival-Date: Sat, 28 Nov 2026 09:59:00 +0000\r\n" +
            "\r\n" +
            $"Final-Recipient: rfc822; {recipient}\r\n" +
            $"Action: {action}\r\n" +
            statusLine +
            diagnosticLine +
            "Last-Attempt-Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n" +
            "\r\n" +
            returned +
            "--REPORT-BOUNDARY--\r\n";
    }

    /// <summary>An ordinary message, not a report.</summary>
    public static string NotAReport(string to) =>
        "From: someone@example.net\r\n" +
        $"To: <{to}>\r\n" +
        "Subject: Out of office\r\n" +
        $"Message-ID: <{Guid.NewGuid():N}@example.net>\r\n" +
        "\r\n" +
        "I am away until Monday.\r\n";
}
