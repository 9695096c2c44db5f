using Microsoft.EntityFrameworkCore;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>The inbox forgets exported events after Consumer:InboxRetention, and only those.</summary>
public sealed class InboxCleanupTests(KafkaTestBroker broker)
{
    [Theory]
    [InlineData(DatabaseProvider.Postgres)]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.SqlServer)]
    public async Task ExportedRowsPastRetention_AreDeleted_DeadLetteredAndRecentRowsStay(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), provider, database.ConnectionString,
            new Dictionary<string, string?> { ["Kafka:TopicRetention"] = "00:30:00", ["Consumer:InboxRetention"] = "01:00:00", ["Consumer:InboxCleanupInterval"] = "00:00:01" });
        app.Start();
        var now = DateTime.UtcNow;
        InboxMessage Row(InboxOutcome outcome, TimeSpan age) =>
            new() { EventId = Guid.NewGuid(), OrderId = Guid.NewGuid(), Outcome = outcome, HandledAtUtc = now - age };
        var oldExported = Row(InboxOutcome.Exported, TimeSpan.FromHours(2));
        var oldDeadLettered = Row(InboxOutcome.DeadLettered, TimeSpan.FromHours(2));
        var recentExported = Row(InboxOutcome.Exported, TimeSpan.FromMinutes(50));
        await app.WithDb(db =>
        {
            db.InboxMessages.AddRange(oldExported, oldDeadLettered, recentExported);
            return db.SaveChangesAsync(TestContext.Current.CancellationToken);
        });

        await Eventually.True(
            () => app.WithDb(async db => !await db.InboxMessages.AnyAsync(m => m.EventId == oldExported.EventId, TestContext.Current.CancellationToken)),
            because: "the exported row past retention is deleted");

        // The same DELETE that removed it judged the others.
        var left = await app.WithDb(db => db.InboxMessages.Select(m => m.EventId).ToListAsync(TestContext.Current.CancellationToken));
        left.ShouldBe([oldDeadLettered.EventId, recentExported.EventId], ignoreOrder: true);
    }
}
