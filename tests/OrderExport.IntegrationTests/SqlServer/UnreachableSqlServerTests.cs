using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.SqlServer;

/// <summary>
/// <c>Database:Provider=SqlServer</c> with a server that is not there (runs on every machine: it needs
/// no SQL Server): the service starts anyway, readiness names the database, writes answer 503
/// ProblemDetails, and nothing crashes.
/// </summary>
public sealed class UnreachableSqlServerTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task ServiceStarts_ReadinessIsUnhealthyNamingTheDatabase_AndPostOrdersAnswers503()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = $"Server=127.0.0.1,{ClosedPort()};Database=orderexport_unreachable;User Id=sa;Password=not-used-1A;TrustServerCertificate=True;Connect Timeout=2";
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.SqlServer, connectionString);
        var http = app.Start();

        var report = await Readiness.ShouldBecome(http, "Unhealthy", HttpStatusCode.ServiceUnavailable);
        var database = report.GetProperty("checks").GetProperty("database");
        database.GetProperty("status").GetString().ShouldBe("Unhealthy");
        database.GetProperty("description").GetString()!.ShouldStartWith("SqlServer database 'orderexport_unreachable' at 127.0.0.1,");
        report.GetProperty("checks").GetProperty("kafka").GetProperty("status").GetString().ShouldBe("Healthy");

        var create = await http.PostAsJsonAsync("/orders", new { customerId = "c-1", amount = 10.50m, currency = "EUR" }, ct);
        create.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        create.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await create.Content.ReadAsStringAsync(ct)).ShouldContain("urn:orderexport:problem:database-unavailable");

        (await http.GetAsync("/health/live", ct)).StatusCode.ShouldBe(HttpStatusCode.OK, "the process is up");
        app.Service<DatabaseSchema>().IsMigrated.ShouldBeFalse();
        app.Service<DatabaseSchema>().LastError.ShouldNotBeNull();
    }

    /// <summary>A port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
