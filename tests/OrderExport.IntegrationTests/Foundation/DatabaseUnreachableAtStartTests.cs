using System.Net;
using System.Net.Http.Json;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Foundation;

/// <summary>
/// A database that is down when the service starts does not stop it: readiness says which database,
/// writes answer 503, and once the database answers the schema is migrated in the background and
/// the relay and consumer start. (On SQL Server the same code path runs; see UnreachableSqlServerTests.)
/// </summary>
public sealed class DatabaseUnreachableAtStartTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task StartsWithoutItsDatabase_AnswersUnhealthyAnd503_ThenMigratesAndExportsOnceItIsBack()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        await using var proxy = TcpProxy.ForPostgres(database.ConnectionString);
        proxy.Cut();
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, proxy.Redirect(database.ConnectionString));
        var http = app.Start();

        var down = await Readiness.ShouldBecome(http, "Unhealthy", HttpStatusCode.ServiceUnavailable);
        down.GetProperty("checks").GetProperty("database").GetProperty("description").GetString()!
            .ShouldContain($"Postgres database '{database.ConnectionString.Split("Database=")[1].Split(';')[0]}'");
        var refused = await http.PostAsync("/orders", JsonContent.Create(new { customerId = "c-1", amount = 1.00m, currency = "EUR" }), TestContext.Current.CancellationToken);
        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);

        proxy.Restore();
        await Readiness.ShouldBecome(http, "Healthy", HttpStatusCode.OK, TimeSpan.FromSeconds(45));
        app.Service<DatabaseSchema>().IsMigrated.ShouldBeTrue();
        var orders = new OrdersClient(http);
        var order = await orders.CreateConfirmedAsync();
        await Eventually.Until(() => orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported, because: "relay and consumer started after the migration");
    }
}
