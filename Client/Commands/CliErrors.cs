using Spectre.Console;
using Spectre.Console.Cli;
using DeliveryGrains.Client.Rendering;

namespace DeliveryGrains.Client.Commands;

/// <summary>Turns every failure into one red line and an exit code, never a stack trace.</summary>
public static partial class CliErrors
{
    public static int Report(IAnsiConsole console, Exception exception)
    {
        var ex = Unwrap(exception);
        if (ex is Targets.TargetFileException file)
        {
            // A file is fixed line by line: one line per problem, after the line that says how many.
            Line(console, file.Message);
            foreach (var problem in file.Problems)
            {
                Line(console, "  " + problem);
            }

            return ExitCodes.InvalidInput;
        }

        var (code, message) = ex switch
        {
            CommandParseException => (ExitCodes.InvalidInput, $"{Plain(ex.Message)} Run '{DeliveryCli.ApplicationName} --help' for the commands, '{DeliveryCli.ApplicationName} COMMAND --help' for their options."),
            CommandAppException => (ExitCodes.InvalidInput, Plain(ex.Message)),
            ValidationException or InvalidInputException => (ExitCodes.InvalidInput, ex.Message),
            NotFoundException => (ExitCodes.NotFound, ex.Message),
            ConflictException => (ExitCodes.Conflict, ex.Message),
            MissingRoleException => (ExitCodes.MissingRole, ex.Message),
            DeliveryRefusedException => (ExitCodes.Failed, ex.Message),
            Hosting.ClusterUnavailableException => (ExitCodes.Failed, ex.Message),
            OperationCanceledException => (ExitCodes.Cancelled, "Cancelled."),
            TimeoutException => (ExitCodes.Failed, "The silo did not answer in time: " + ex.Message),
            OrleansException => (ExitCodes.Failed, "The cluster refused the call: " + ex.Message),
            _ => (ExitCodes.Failed, $"The command failed on something that is not your input: {ex.Message.TrimEnd('.')}. Try it again; if it fails again, report this line."),
        };
        Line(console, message);
        return code;
    }

    /// <summary>
    /// One red line, whatever the message holds (shown as text, not markup) and however narrow the
    /// terminal: a single segment, which Spectre writes as it is instead of wrapping it at the console width.
    /// </summary>
    public static void Line(IAnsiConsole console, string message) =>
        console.WriteUnwrappedLine(OneLine(message), new Style(Color.Red));

    /// <summary>Spectre's own words without a .NET type: "Failed to convert 'x' to Int32." is "'x' is not a valid value."</summary>
    private static string Plain(string message) =>
        ConversionFailure().Replace(message, "'$1' is not a valid value here.$2");

    [System.Text.RegularExpressions.GeneratedRegex(@"^Failed to convert '(.*)' to [^ ]+?\.(.*)$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex ConversionFailure();

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>An option value of the wrong type (<c>--deliveries abc</c>): Spectre's own message names the value and the type.</summary>
    private static bool IsConversionFailure(Exception ex) =>
        ex is CommandRuntimeException && ex.Message.StartsWith("Failed to convert", StringComparison.Ordinal);

    private static Exception Unwrap(Exception ex)
    {
        while (true)
        {
            switch (ex)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    ex = aggregate.InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                case CommandRuntimeException { InnerException: { } inner } when inner is not CommandAppException && !IsConversionFailure(ex):
                    ex = inner;
                    continue;
                default:
                    return ex;
            }
        }
    }
}
