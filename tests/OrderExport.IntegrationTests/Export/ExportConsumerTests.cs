using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using static OrderExport.IntegrationTests.Infrastructure.TestEnvelopes;
using OrderExport.Messaging;
using OrderExport.Orders;
using OrderExport.Outbox;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.Export;

/// <summary>order-export → consumer → platform (the service's own fake, over HTTP), with retries and dead letters.</summary>
public sealed class ExportConsumerTests(KafkaTestBroker broker) : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private OrderExportApp _app = null!;
    private OrdersClient _orders = null!;
    private OperatorClient _operator = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        _app = new OrderExportApp(broker, await broker.CreateTopicsAsync(), DatabaseProvider.Postgres, _database.ConnectionString);
        _orders = new OrdersClient(_app.Start());
        _operator = new OperatorClient(_app.OperatorClient());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Confirm_ReachesThePlatformWithinFiveSeconds()
    {
        var order = await _orders.CreateConfirmedAsync("customer-happy");

        // What the original Spring sample's end-to-end test checked: at most 5 s.
        var received = await Eventually.Until(
            () => Task.FromResult(_app.Platform.ForOrder(order.Id)), r => r.Count > 0, TimeSpan.FromSeconds(5));

        var call = received.ShouldHaveSingleItem();
        call.StatusCode.ShouldBe(200);
        call.Sequence.ShouldBe(1);
        call.Body.ShouldContain("customer-happy");
        var eventId = await EventIdOf(order.Id, sequence: 1);
        call.EventId.ShouldBe(eventId, "the Idempotency-Key is the event id");
        await Eventually.Until(() => _orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);
    }

    [Fact]
    public async Task TransientFailuresThenSuccess_ExportsOnce()
    {
        _app.PlatformBehavior.FailNext(503, 500);
        var order = await _orders.CreateConfirmedAsync();

        await Eventually.Until(() => _orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);

        var calls = _app.Platform.ForOrder(order.Id);
        calls.Select(c => c.StatusCode).ShouldBe([503, 500, 200]);
        calls.Select(c => c.EventId).Distinct().Count().ShouldBe(1, "one Idempotency-Key on every attempt");
        _app.Platform.Exported.Count(c => c.OrderId == order.Id).ShouldBe(1);
        (await _operator.ListAsync(order.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task PermanentFailure_IsDeadLetteredWithHeaders_AndReplayAfterRecoveryExportsOnce()
    {
        using var dlq = new TopicReader(broker, _app.Topics.DeadLetterTopic, _app.Topics.Partitions);
        var draft = await _orders.CreateAsync();
        _app.PlatformBehavior.Reject(draft.Id);
        await _orders.ConfirmAsync(draft.Id);

        var record = (await dlq.WaitForAsync(1)).ShouldHaveSingleItem();
        record.Key.ShouldBe(draft.Id.ToString());
        record.Headers[DeadLetterHeaders.OriginalTopic].ShouldBe(_app.Topics.Topic);
        int.Parse(record.Headers[DeadLetterHeaders.OriginalPartition]).ShouldBeInRange(0, _app.Topics.Partitions - 1);
        long.Parse(record.Headers[DeadLetterHeaders.OriginalOffset]).ShouldBeGreaterThanOrEqualTo(0);
        record.Headers[DeadLetterHeaders.ErrorType].ShouldBe("PlatformRejected");
        record.Headers[DeadLetterHeaders.ErrorMessage].ShouldContain("422");
        record.Headers[DeadLetterHeaders.Attempts].ShouldBe("1", "a 422 is not retried");
        DateTime.Parse(record.Headers[DeadLetterHeaders.FirstFailureAt]).ShouldBeLessThanOrEqualTo(DateTime.Parse(record.Headers[DeadLetterHeaders.LastFailureAt]));
        record.Envelope.OrderId.ShouldBe(draft.Id);

        var deadLetter = (await Eventually.Until(() => _operator.ListAsync(draft.Id), l => l.Count == 1)).Single();
        deadLetter.Status.ShouldBe(DeadLetterStatus.Unresolved);
        (await _orders.GetAsync(draft.Id)).ExportStatus.ShouldBe(ExportStatus.DeadLettered);
        _app.Platform.Exported.ShouldNotContain(c => c.OrderId == draft.Id);

        _app.PlatformBehavior.Reset();
        (await _operator.ReplayAsync(deadLetter.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted);

        await Eventually.Until(() => _orders.GetAsync(draft.Id), o => o.ExportStatus == ExportStatus.Exported);
        (await _operator.ListAsync(draft.Id)).Single().Status.ShouldBe(DeadLetterStatus.Replayed);
        // Replaying again is refused and exports nothing more.
        (await _operator.ReplayAsync(deadLetter.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
        _app.Platform.Exported.Count(c => c.OrderId == draft.Id).ShouldBe(1);
    }

    [Fact]
    public async Task ReplayRequestedTwiceAtOnce_ExportsOnce()
    {
        var (draft, deadLetter) = await DeadLetteredOrderAsync();

        var answers = await Task.WhenAll(_operator.ReplayAsync(deadLetter.Id), _operator.ReplayAsync(deadLetter.Id));

        answers.ShouldAllBe(a => a.StatusCode == System.Net.HttpStatusCode.Accepted);
        await Eventually.Until(() => _operator.ListAsync(draft.Id), l => l.Single().Status == DeadLetterStatus.Replayed);
        // The second control record is consumed after the first; once a later order is exported, it has been seen.
        var later = await _orders.CreateConfirmedAsync();
        await Eventually.Until(() => _orders.GetAsync(later.Id), o => o.ExportStatus == ExportStatus.Exported);
        _app.Platform.Exported.Count(c => c.OrderId == draft.Id).ShouldBe(1);
        _app.Platform.CountFor(deadLetter.EventId!.Value).ShouldBe(2, "one rejected call, one replayed export");
    }

    [Fact]
    public async Task PoisonMessage_IsDeadLettered_AndTheNextMessageIsStillExported()
    {
        using var dlq = new TopicReader(broker, _app.Topics.DeadLetterTopic, _app.Topics.Partitions);
        var key = Guid.NewGuid().ToString();
        using (var producer = new ProducerBuilder<string, string>(broker.ProducerConfig()).Build())
        {
            // All on one partition (one key), ahead of the real order's event below.
            await producer.ProduceAsync(_app.Topics.Topic, new Message<string, string> { Key = key, Value = "{not json" }, TestContext.Current.CancellationToken);
            await producer.ProduceAsync(_app.Topics.Topic, new Message<string, string>
            {
                Key = key,
                Value = $$$"""{"eventId":"{{{Guid.NewGuid()}}}","type":"OrderExportRequested","schemaVersion":99,"occurredAt":"2026-01-01T00:00:00Z","orderId":"{{{key}}}","payload":{}}""",
            }, TestContext.Current.CancellationToken);
        }

        var order = await _orders.CreateConfirmedAsync();

        await Eventually.Until(() => _orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);
        var first = (await Eventually.Until(() => _operator.ListAsync(status: DeadLetterStatus.Unresolved), l => l.Count == 1)).Single();
        first.ErrorType.ShouldBe("MalformedMessage");
        first.OrderId.ShouldBe(Guid.Parse(key), "the key names the order even when the value cannot be read");
        first.Key.ShouldBe(key);
        first.Value.ShouldBe("{not json", "an operator sees what failed");
        // The unknown version of the same order waits behind that hold instead of overtaking it ...
        await Eventually.Until(() => _app.WithDb(db => db.ParkedMessages.CountAsync(p => p.OrderId == Guid.Parse(key), TestContext.Current.CancellationToken)), n => n == 1);

        // ... and once the first is discarded, its turn comes: it becomes the order's dead letter.
        (await _operator.DiscardAsync(first.Id)).IsSuccessStatusCode.ShouldBeTrue();
        var records = await dlq.WaitForAsync(2);
        records.Select(r => r.Headers[DeadLetterHeaders.ErrorType]).ShouldBe(["MalformedMessage", "UnsupportedSchemaVersion"]);
        records.ShouldAllBe(r => r.Key == key);
        var second = (await _operator.ListAsync(status: DeadLetterStatus.Unresolved)).ShouldHaveSingleItem();
        second.ErrorType.ShouldBe("UnsupportedSchemaVersion");
        second.OrderId.ShouldBe(Guid.Parse(key), "a sound envelope of an unknown version (a rolling upgrade) holds its order like any dead letter");
    }

    [Fact]
    public async Task ReplayOfALaterDeadLetter_WhileAnOlderOneOfItsOrderIsUnresolved_IsRefusedWith409()
    {
        var (order, older) = await DeadLetteredOrderAsync();
        using var producer = new ProducerBuilder<string, byte[]>(broker.ProducerConfig()).Build();
        await producer.ProduceAsync(_app.Topics.Topic, new Message<string, byte[]> { Key = order.Id.ToString(), Value = Encoding.UTF8.GetBytes("{not json") },
            TestContext.Current.CancellationToken);
        var later = (await Eventually.Until(() => _operator.ListAsync(order.Id), l => l.Count == 2)).Single(d => d.Id != older.Id);

        var refused = await _operator.ReplayAsync(later.Id);

        refused.StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
        (await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldContain("urn:orderexport:problem:older-dead-letter-unresolved");
        (await _operator.ReplayAsync(older.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted);
        await Eventually.Until(() => _operator.ListAsync(order.Id), l => l.Single(d => d.Id == older.Id).Status == DeadLetterStatus.Replayed);
        (await _operator.ReplayAsync(later.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted, "its turn, once the older one is resolved");
    }

    [Fact]
    public async Task DeadLetteredOrder_HoldsItsLaterEventsUntilReplay_WhileOtherOrdersFlow()
    {
        var (held, deadLetter) = await DeadLetteredOrderAsync("customer-held");

        // The held order's second export request is parked, not exported ahead of the first.
        await _orders.RequestExportAsync(held.Id);
        await Eventually.True(() => _app.WithDb(db => db.ParkedMessages.AnyAsync(p => p.OrderId == held.Id, TestContext.Current.CancellationToken)));
        var other = await _orders.CreateConfirmedAsync("customer-free");
        await Eventually.Until(() => _orders.GetAsync(other.Id), o => o.ExportStatus == ExportStatus.Exported);
        _app.Platform.ForOrder(held.Id).Where(c => c.StatusCode == 200).ShouldBeEmpty();

        (await _operator.ReplayAsync(deadLetter.Id)).IsSuccessStatusCode.ShouldBeTrue();

        var exported = await Eventually.Until(
            () => Task.FromResult(_app.Platform.Exported.Where(c => c.OrderId == held.Id).ToList()), e => e.Count == 2);
        exported.Select(c => c.Sequence).ShouldBe([1, 2], "per-order order survives the dead letter");
        // The platform answers before the consumer's transaction (parked row gone, status recorded) commits.
        await Eventually.True(() => _app.WithDb(async db => await db.ParkedMessages.CountAsync(TestContext.Current.CancellationToken) == 0));
        await Eventually.Until(() => _orders.GetAsync(held.Id), o => o.ExportStatus == ExportStatus.Exported);
    }

    [Fact]
    public async Task DiscardingADeadLetter_ReleasesTheParkedEvents()
    {
        var (held, deadLetter) = await DeadLetteredOrderAsync();
        await _orders.RequestExportAsync(held.Id);
        await Eventually.True(() => _app.WithDb(db => db.ParkedMessages.AnyAsync(p => p.OrderId == held.Id, TestContext.Current.CancellationToken)));

        (await _operator.DiscardAsync(deadLetter.Id)).IsSuccessStatusCode.ShouldBeTrue();

        var exported = await Eventually.Until(
            () => Task.FromResult(_app.Platform.Exported.Where(c => c.OrderId == held.Id).ToList()), e => e.Count == 1);
        exported.Single().Sequence.ShouldBe(2, "the discarded first request is never exported");
        (await _operator.ListAsync(held.Id)).Single().Status.ShouldBe(DeadLetterStatus.Discarded);
        // Discarding again is harmless (it only repeats the release), replaying a discarded one is refused.
        (await _operator.DiscardAsync(deadLetter.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await _operator.ReplayAsync(deadLetter.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task BinaryRecordWithNulBytes_IsDeadLetteredAsBase64_AndTheConsumerMovesOn()
    {
        using (var producer = new ProducerBuilder<string, byte[]>(broker.ProducerConfig()).Build())
        {
            // A Schema-Registry-framed record starts with a 0x00 magic byte: PostgreSQL text cannot hold it.
            await producer.ProduceAsync(_app.Topics.Topic, new Message<string, byte[]> { Key = "binary", Value = [0x00, 0x00, 0x00, 0x00, 0x2A, 0xFF] },
                TestContext.Current.CancellationToken);
        }

        var order = await _orders.CreateConfirmedAsync();

        await Eventually.Until(() => _orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);
        var deadLetter = (await Eventually.Until(() => _operator.ListAsync(status: DeadLetterStatus.Unresolved), l => l.Count == 1)).Single();
        var stored = await _app.WithDb(db => db.DeadLetters.AsNoTracking().SingleAsync(d => d.Id == deadLetter.Id, TestContext.Current.CancellationToken));
        stored.Payload.ShouldBe("base64:AAAAACr/");
    }

    [Fact]
    public async Task ParkedEventsWhoseReleaseWasInterrupted_GoOutBeforeTheOrdersNextEvent()
    {
        var (held, deadLetter) = await DeadLetteredOrderAsync();
        await _orders.RequestExportAsync(held.Id);
        await Eventually.True(() => _app.WithDb(db => db.ParkedMessages.AnyAsync(p => p.OrderId == held.Id, TestContext.Current.CancellationToken)));
        // The discard committed, but its release record never reached Kafka (the broker failed).
        await _app.WithDb(db => db.DeadLetters.Where(d => d.Id == deadLetter.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DeadLetterStatus.Discarded), TestContext.Current.CancellationToken));

        await _orders.RequestExportAsync(held.Id);

        var exported = await Eventually.Until(
            () => Task.FromResult(_app.Platform.Exported.Where(c => c.OrderId == held.Id).ToList()), e => e.Count == 2);
        exported.Select(c => c.Sequence).ShouldBe([2, 3], "the parked event first, then the new one");
    }

    [Fact]
    public async Task ForgedReplayRecord_NamingADeadLetterOfAnotherOrder_ExportsNothingAndResolvesNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (order, deadLetter) = await DeadLetteredOrderAsync();
        var other = Guid.NewGuid();
        using var producer = new ProducerBuilder<string, byte[]>(broker.ProducerConfig()).Build();
        var partition = new TopicPartition(_app.Topics.Topic, deadLetter.Partition);
        await producer.ProduceAsync(partition, new Message<string, byte[]>
        {
            Key = other.ToString(), Value = Envelope(other),
            Headers = new Headers { { ControlHeaders.ReplayOf, Encoding.UTF8.GetBytes(deadLetter.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)) } },
        }, ct);
        // Behind it on the same partition: once this one is dead-lettered, the forged record was handled.
        var sentinel = await producer.ProduceAsync(partition, new Message<string, byte[]> { Key = Guid.NewGuid().ToString(), Value = Encoding.UTF8.GetBytes("{not json") }, ct);
        await Eventually.Until(() => _operator.ListAsync(), l => l.Any(d => d.Partition == sentinel.Partition.Value && d.Offset == sentinel.Offset.Value));

        (await _operator.ListAsync(order.Id)).ShouldHaveSingleItem().Status.ShouldBe(DeadLetterStatus.Unresolved);
        _app.Platform.ForOrder(other).ShouldBeEmpty("the forged record's value is never exported");
    }

    [Fact]
    public async Task ReplayOfABinaryRecord_SendsItsOriginalKeyAndValueBytes_ToTheDeadLetterTopicAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        byte[] key = [0x00, 0xFF, 0x10, 0x80, 0x7B], value = [0x00, 0x01, 0xFE, 0x7B, 0x00, 0x22];
        using var producer = new ProducerBuilder<byte[], byte[]>(broker.ProducerConfig()).Build();
        var written = await producer.ProduceAsync(_app.Topics.Topic, new Message<byte[], byte[]> { Key = key, Value = value }, ct);
        var deadLetter = (await Eventually.Until(() => _operator.ListAsync(),
            l => l.Any(d => d.Partition == written.Partition.Value && d.Offset == written.Offset.Value))).Single();

        (await _operator.ReplayAsync(deadLetter.Id)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted);

        using var dlq = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"reader-{Guid.NewGuid():N}", EnableAutoCommit = false, FetchWaitMaxMs = 10,
        }).Build();
        dlq.Assign(Enumerable.Range(0, _app.Topics.Partitions).Select(p => new TopicPartitionOffset(_app.Topics.DeadLetterTopic, p, Offset.Beginning)));
        var records = new List<ConsumeResult<byte[], byte[]>>();
        await Eventually.Until(() =>
        {
            if (dlq.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null } r)
            {
                records.Add(r);
            }

            return Task.FromResult(records.Count);
        }, n => n == 2, because: "dead-lettered once, and again when its replay failed");
        records.ShouldAllBe(r => r.Message.Key.SequenceEqual(key) && r.Message.Value.SequenceEqual(value));
        records.Select(r => r.Partition.Value).Distinct().ShouldHaveSingleItem();
        dlq.Close();
    }

    [Fact]
    public async Task EventTypeWithANulCharacter_IsDeadLetteredOnPostgres_NotRetriedForever()
    {
        // The unknown type is quoted in the dead letter's error text; PostgreSQL text refuses U+0000,
        // so before the fix every retry failed (and published to the DLQ topic again).
        using var producer = new ProducerBuilder<string, byte[]>(broker.ProducerConfig()).Build();
        var orderId = Guid.NewGuid();
        var written = await producer.ProduceAsync(_app.Topics.Topic, new Message<string, byte[]>
        {
            Key = orderId.ToString(), Value = Envelope(orderId, type: "Order\\u0000Cancelled"),
        }, TestContext.Current.CancellationToken);

        var letters = await Eventually.Until(() => _operator.ListAsync(), l => l.Any(d => d.Offset == written.Offset.Value && d.Partition == written.Partition.Value));
        var letter = letters.ShouldHaveSingleItem();
        letter.ErrorMessage.ShouldContain("Order\\u0000Cancelled", Case.Sensitive, "the NUL is kept visible, escaped");
        letter.ErrorMessage.ShouldNotContain("\0");
    }

    [Fact]
    public async Task RecordWithNullHeaderValues_IsHandledLikeOneWithoutThem_AndDoesNotStallItsPartition()
    {
        // Null header values are legal in Kafka. Before the fix, decoding them threw before the
        // handler's try (traceparent) or inside the retry's log line (event-id): retried for ever.
        using var producer = new ProducerBuilder<string, byte[]>(broker.ProducerConfig()).Build();
        var headers = new Headers
        {
            { MessageHeaders.TraceParent, null },
            { MessageHeaders.TraceState, null },
            { MessageHeaders.EventId, null },
        };
        var written = await producer.ProduceAsync(_app.Topics.Topic, new Message<string, byte[]>
        {
            Key = Guid.NewGuid().ToString(), Value = Encoding.UTF8.GetBytes("{not json"), Headers = headers,
        }, TestContext.Current.CancellationToken);

        var letters = await Eventually.Until(() => _operator.ListAsync(), l => l.Any(d => d.Offset == written.Offset.Value && d.Partition == written.Partition.Value));
        letters.ShouldHaveSingleItem().ErrorType.ShouldNotBeNullOrEmpty();
        var order = await _orders.CreateConfirmedAsync();
        await Eventually.Until(() => _orders.GetAsync(order.Id), o => o.ExportStatus == ExportStatus.Exported);
    }

    [Fact]
    public async Task OperationsWithoutTheApiKey_AreUnauthorized()
    {
        var anonymous = _app.CreateClient();
        var wrongKey = _app.CreateClient();
        wrongKey.DefaultRequestHeaders.Add("X-Api-Key", "guess");

        foreach (var client in new[] { anonymous, wrongKey })
        {
            var list = await client.GetAsync("/dead-letters", TestContext.Current.CancellationToken);
            list.StatusCode.ShouldBe(System.Net.HttpStatusCode.Unauthorized);
            list.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
            (await client.PostAsync("/dead-letters/1/replay", null, TestContext.Current.CancellationToken))
                .StatusCode.ShouldBe(System.Net.HttpStatusCode.Unauthorized);
        }
    }

    /// <summary>An order whose first export the platform refused (422): one unresolved dead letter. The platform then recovers.</summary>
    private async Task<(OrderResponse Order, DeadLetterResponse DeadLetter)> DeadLetteredOrderAsync(string customerId = "customer-1")
    {
        var draft = await _orders.CreateAsync(customerId);
        _app.PlatformBehavior.Reject(draft.Id);
        await _orders.ConfirmAsync(draft.Id);
        var deadLetter = (await Eventually.Until(() => _operator.ListAsync(draft.Id), l => l.Count == 1)).Single();
        _app.PlatformBehavior.Reset();
        return (draft, deadLetter);
    }

    private Task<Guid> EventIdOf(Guid orderId, int sequence) => _app.WithDb(async db =>
    {
        var rows = await db.OutboxMessages.AsNoTracking().Where(m => m.OrderId == orderId).OrderBy(m => m.Id)
            .ToListAsync(TestContext.Current.CancellationToken);
        return rows[sequence - 1].EventId;
    });
}
