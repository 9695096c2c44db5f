using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Orders;
using OrderExport.Persistence;
using OrderExport.Platform;

namespace OrderExport.IntegrationTests.Export;

/// <summary>
/// The consumer handles each partition with its own work: an order stuck at the platform holds
/// its own partition only (with <c>MaxInFlightPerPartition=1</c>; with more, only its own order:
/// see PartitionWorkTests), and the rest of the topic keeps flowing.
/// </summary>
public sealed class PartitionWorkersTests(KafkaTestBroker broker)
{
    private const int OtherOrders = 30;

    [Fact]
    public async Task AnOrderHeldAtThePlatform_HoldsOnlyItsPartition_AndItsPartitionResumesAfterwards()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var gate = new HeldOrders();
        var topics = await broker.CreateTopicsAsync();
        // A queue of one record: the held partition fills it at once and must be paused, then resumed.
        // One record in flight per partition: strict offset order, so everything behind the held order waits.
        await using var app = new OrderExportApp(broker, topics, DatabaseProvider.Postgres, database.ConnectionString,
            new Dictionary<string, string?> { ["Consumer:QueuePerPartition"] = "1", ["Consumer:MaxInFlightPerPartition"] = "1" },
            services =>
            {
                var real = services.Single(d => d.ServiceType == typeof(IPlatformClient)).ImplementationType!;
                services.RemoveAll<IPlatformClient>();
                services.AddSingleton<IPlatformClient>(sp =>
                    new GatedPlatformClient((IPlatformClient)ActivatorUtilities.CreateInstance(sp, real), gate));
            });
        var orders = new OrdersClient(app.Start());
        using var topic = new TopicReader(broker, topics.Topic, topics.Partitions);

        var held = await orders.CreateAsync();
        gate.Hold(held.Id);
        await orders.ConfirmAsync(held.Id);
        await gate.WaitUntilCalledAsync();
        var others = new List<Guid>();
        for (var i = 0; i < OtherOrders; i++)
        {
            others.Add((await orders.CreateConfirmedAsync()).Id);
        }

        var records = await topic.WaitForAsync(OtherOrders + 1);
        var partitionOf = records.ToDictionary(r => Guid.Parse(r.Key), r => r.Partition);
        var heldPartition = partitionOf[held.Id];
        var elsewhere = others.Where(o => partitionOf[o] != heldPartition).ToList();
        var behind = others.Where(o => partitionOf[o] == heldPartition).ToList();
        elsewhere.ShouldNotBeEmpty("with 30 random keys on 3 partitions some land elsewhere, or this test proves nothing");
        behind.Count.ShouldBeGreaterThan(1, "more than the queue holds must wait behind the held order, or no partition was paused");

        await Eventually.Until(() => Task.FromResult(elsewhere.Count(o => app.Platform.Exported.Any(c => c.OrderId == o))),
            n => n == elsewhere.Count, TimeSpan.FromSeconds(20), "orders on the other partitions exported while one order is held");
        app.Platform.Exported.ShouldNotContain(c => c.OrderId == held.Id);
        app.Platform.Exported.ShouldNotContain(c => behind.Contains(c.OrderId), "a partition is handled in offset order");

        gate.Release();

        await Eventually.Until(() => Task.FromResult(app.Platform.Exported.Count), n => n >= OtherOrders + 1, TimeSpan.FromSeconds(20),
            "the held partition resumes: its order and everything behind it exported");
        app.Platform.Exported.GroupBy(c => c.OrderId).ShouldAllBe(g => g.Count() == 1);
        (await orders.GetAsync(held.Id)).ExportStatus.ShouldBe(ExportStatus.Exported);
    }

    /// <summary>Holds the platform call of chosen orders until released; everything else passes straight through.</summary>
    private sealed class HeldOrders
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Guid _held;

        public void Hold(Guid orderId) => _held = orderId;

        public void Release() => _released.TrySetResult();

        public Task WaitUntilCalledAsync() => _called.Task.WaitAsync(TimeSpan.FromSeconds(20));

        public async Task<PlatformResult> ExportAsync(IPlatformClient inner, PlatformExportRequest request, CancellationToken cancellationToken)
        {
            if (request.OrderId == _held)
            {
                _called.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }

            return await inner.ExportAsync(request, cancellationToken);
        }
    }

    private sealed class GatedPlatformClient(IPlatformClient inner, HeldOrders gate) : IPlatformClient
    {
        public Task<PlatformResult> ExportAsync(PlatformExportRequest request, CancellationToken cancellationToken) =>
            gate.ExportAsync(inner, request, cancellationToken);
    }
}
