using OrderExport;

var builder = WebApplication.CreateBuilder(args);
builder.AddOrderExport();

var app = builder.Build();
app.MapOrderExport();
app.Run();

/// <summary>Entry point; public so the integration tests can host it.</summary>
public partial class Program;
