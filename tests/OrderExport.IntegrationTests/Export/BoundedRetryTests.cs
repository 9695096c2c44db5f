using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Platform;

namespace OrderExport.IntegrationTests.Export;

/// <summary>
/// A record whose handling fails for a reason that is not the infrastructure's (here: a bug the
/// order trips in the platform client) is retried a bounded number of times, then dead-lettered
/// holding its order, so it can never stop its partition.
/// </summary>
public sealed class BoundedRetryTests(KafkaTestBroker broker)
{
    [Fact]
    public async Task ABugARecordTrips_IsRetriedMaxHandlingFailuresTimes_ThenDeadLettered_AndItsPartitionFlowsOn()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var bug = new BuggyOrders();
        var topics = await broker.CreateTopicsAsync(partitions: 1); // one partition: what follows must get past it
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Consumer:MaxHandlingFailures"] = "3" },
            services =>
            {
                var real = services.Single(d => d.ServiceType == typeof(IPlatformClient)).ImplementationType!;
                services.RemoveAll<IPlatformClient>();
                services.AddSingleton<IPlatformClient>(sp => new BuggyPlatformClient((IPlatformClient)ActivatorUtilities.CreateInstance(sp, real), bug));
            });
        var orders = new OrdersClient(app.Start());
        var operations = new OperatorClient(app.OperatorClient());

        var tripping = await orders.CreateAsync();
        bug.Trip(tripping.Id);
        await orders.ConfirmAsync(tripping.Id);
        var next = await orders.CreateConfirmedAsync();

        await Eventually.Until(() => orders.GetAsync(next.Id), o => o.ExportStatus == ExportStatus.Exported, because: "the partition flows on");
        // Another order's record may finish before the tripping one is given up on (orders run side by side).
        var deadLetter = (await Eventually.Until(() => operations.ListAsync(tripping.Id), l => l.Count > 0, because: "dead-lettered after 3 failures"))
            .ShouldHaveSingleItem();
        deadLetter.ErrorType.ShouldBe(nameof(InvalidOperationException));
        deadLetter.ErrorMessage.ShouldContain("handling failed 3 times");
        bug.Calls.ShouldBe(3);
        await orders.RequestExportAsync(tripping.Id);
        await Eventually.Until(() => app.WithDb(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(
            db.ParkedMessages, p => p.OrderId == tripping.Id, TestContext.Current.CancellationToken)), n => n == 1, because: "the order is held behind its dead letter");
    }

    private sealed class BuggyOrders
    {
        private Guid _order;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Trip(Guid orderId) => _order = orderId;

        public bool Trips(Guid orderId)
        {
            if (orderId != _order)
            {
                return false;
            }

            Interlocked.Increment(ref _calls);
            return true;
        }
    }

    private sealed class BuggyPlatformClient(IPlatformClient inner, BuggyOrders bug) : IPlatformClient
    {
        public Task<PlatformResult> ExportAsync(PlatformExportRequest request, CancellationToken cancellationToken) =>
            bug.Trips(request.OrderId) ? throw new InvalidOperationException("a bug this order trips") : inner.ExportAsync(request, cancellationToken);
    }
}
