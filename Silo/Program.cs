using DeliveryGrains.Silo.Demo;
using DeliveryGrains.Silo.Hosting;
using DeliveryGrains.Silo.Measuring;
using DeliveryGrains.Silo.OperatorConsole;

DemoSettings? demo;
int? floorGrains;
string[] hostArgs;
try
{
    floorGrains = StockFloor.Parse(args);
    demo = DemoSettings.Parse(args, out hostArgs);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

if (floorGrains is { } grains)
{
    return await StockFloor.RunAsync(grains, Console.Out);
}

// Settings files are read from beside the binary, whatever directory the silo is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = hostArgs, ContentRootPath = AppContext.BaseDirectory });
builder.AddDeliverySilo().AddDeliveryApi().AddOperatorConsole();
if (demo is not null)
{
    builder.AddDemo(demo);
}

var app = builder.Build();
app.MapDeliveryApi();
app.MapOperatorConsole();
await app.RunAsync();
return Environment.ExitCode;
