using DeliveryGrains.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddDeliverySilo().AddDeliveryApi();

var app = builder.Build();
app.MapDeliveryApi();
app.Run();

/// <summary>Visible to the tests, which host the real application.</summary>
public partial class Program;
