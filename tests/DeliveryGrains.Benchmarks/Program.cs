using BenchmarkDotNet.Running;
using DeliveryGrains.Benchmarks;

// `tracking` drives the tracking endpoints over HTTP (TrackingLoad); anything else picks BenchmarkDotNet classes.
return args is ["tracking", .. var rest]
    ? await TrackingLoad.RunAsync(rest)
    : Run(args);

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(ContentBenchmarks).Assembly).Run(args);
    return 0;
}
