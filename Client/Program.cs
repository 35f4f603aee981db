using DeliveryGrains.Client;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await DeliveryCli.RunAsync(args, cancellation.Token);
