using DeliveryGrains.Silo.Hosting;

// Settings files are read from beside the binary, whatever directory the silo is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDeliverySilo().AddDeliveryApi();

var app = builder.Build();
app.MapDeliveryApi();
app.Run();
