using System.Text;
using Confluent.Kafka;
using OrderExport.Export;
using OrderExport.IntegrationTests.Infrastructure;
using static OrderExport.IntegrationTests.Infrastructure.TestEnvelopes;
using OrderExport.Messaging;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// Fault 7: records that are not what the contract says (malformed, unknown type or schema version,
/// inconsistent, binary garbage, forged control records, exact copies of real records) written
/// straight to order-export, interleaved with the real orders' records, some on the real orders' keys.
/// </summary>
public sealed class MalformedMessageTests(KafkaTestBroker broker)
{
    private const int Orders = 400;
    private const int CopiesOfEachKind = 3;
    private const int RealRecordCopies = 20;

    /// <summary>
    /// A bad record: its value (given the order id it is written for), whether it must be dead-lettered,
    /// whether it is written for a real order, its header, and whether its envelope is sound (only its type
    /// or schema version is unknown): such a record holds its order (ADR 6), so it is written for a real
    /// order only where the test means it to (and then an operator discards it).
    /// </summary>
    private sealed record BadRecord(string Kind, Func<Guid, byte[]?> Value, bool DeadLettered = true, bool RealKey = false,
        Func<Guid, (string Name, string Value)>? Header = null, bool Sound = false);

    private static readonly BadRecord[] Corpus =
    [
        new("not JSON", _ => Utf8("{not json")),
        new("empty value", _ => []),
        new("no value (tombstone)", _ => null),
        new("JSON array", _ => Utf8("[1,2,3]")),
        new("JSON null", _ => Utf8("null")),
        new("JSON string", _ => Utf8("\"OrderExportRequested\"")),
        new("unknown event type", order => Envelope(order, type: "OrderCancelled"), Sound: true),
        new("schema version 2", order => Envelope(order, version: 2), Sound: true),
        new("schema version 0", order => Envelope(order, version: 0), Sound: true),
        new("schema version 2 of a real order (a rolling upgrade)", order => Envelope(order, version: 2), RealKey: true, Sound: true),
        new("missing eventId", order => Utf8($$$"""{"type":"OrderExportRequested","schemaVersion":1,"orderId":"{{{order}}}","payload":{}}""")),
        new("eventId not a uuid", order => Utf8(Text(Envelope(order)).Replace("\"eventId\":\"", "\"eventId\":\"x"))),
        new("payload not an object", order => Utf8(Text(Envelope(order)).Replace("\"payload\":{", "\"payload\":\"{\",\"x\":{"))),
        new("payload sequence 0", order => Envelope(order, sequence: 0)),
        new("payload for another order", order => Envelope(order, payloadOrder: Guid.NewGuid())),
        new("key of a real order, envelope of another", _ => Envelope(Guid.NewGuid()), RealKey: true),
        new("truncated envelope", order => Envelope(order)[..60]),
        new("invalid UTF-8", _ => [.. Utf8("{\"eventId\":\""), 0xC3, 0x28, 0xFF, .. Utf8("\"}")]),
        new("binary garbage with NUL bytes", _ => [0x00, 0x01, 0xFE, 0x7B, 0x00, 0x22, 0x9F, 0x00]),
        new("deeply nested JSON", _ => Utf8(new string('[', 5000) + new string(']', 5000))),
        new("200 KB of padding", _ => Utf8($$"""{"pad":"{{new string('x', 200_000)}}"}""")),
        // Forged control records: handled as no-ops, neither exported nor dead-lettered.
        new("replay of a dead letter that does not exist", order => Envelope(order), DeadLettered: false,
            Header: _ => (ControlHeaders.ReplayOf, "987654321")),
        new("release of an order with nothing parked", _ => Utf8("{}"), DeadLettered: false, RealKey: true,
            Header: order => (ControlHeaders.ReleaseOrder, order.ToString())),
    ];

    [Fact]
    public async Task MalformedAndUnknownVersionRecordsAmongRealOrders_AreDeadLetteredOnce_AndEveryOrderIsExportedOnce()
    {
        await using var rig = await ReliabilityRig.CreateAsync(broker);
        using var topic = new TopicReader(rig.Broker, rig.Topics.Topic, rig.Topics.Partitions);
        var (app, http) = rig.StartApp();
        var workload = new OrderWorkload(concurrency: 8, reExportEvery: 5);
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(rig.Broker.ProducerConfig()).Build();
        var written = new List<BadRecord>();
        var held = new HashSet<Guid>();

        var sending = workload.RunAsync(http, Orders, perSecond: 50);
        // Interleave: one bad record after every few confirms, keyed by turns to a fresh id, no key, or a real order.
        for (var i = 0; i < Corpus.Length * CopiesOfEachKind; i++)
        {
            var bad = Corpus[i % Corpus.Length];
            await Eventually.Until(() => Task.FromResult(workload.Confirmed), n => n >= (i + 1) * Orders / (Corpus.Length * CopiesOfEachKind + 2),
                TimeSpan.FromSeconds(60));
            // One snapshot: the count read apart from it can already be larger (the workload goes on confirming).
            var confirmed = workload.ConfirmedOrderIds;
            var realOrder = confirmed.ElementAt(Random.Shared.Next(confirmed.Count));
            var key = bad.RealKey || (i % 3 == 2 && !bad.Sound) ? realOrder : i % 3 == 0 ? Guid.NewGuid() : (Guid?)null;
            if (key == realOrder && bad.DeadLettered)
            {
                // Its dead letter holds the order (the key names it, even where the value does not read).
                held.Add(realOrder);
            }

            var message = new Message<byte[]?, byte[]?> { Key = key is { } k ? Utf8(k.ToString()) : null, Value = bad.Value(key ?? Guid.NewGuid()) };
            if (bad.Header?.Invoke(realOrder) is var (name, value))
            {
                message.Headers = new Headers { { name, Utf8(value) } };
            }

            await producer.ProduceAsync(rig.Topics.Topic, message, TestContext.Current.CancellationToken);
            written.Add(bad);
        }

        // Exact copies of real records: Kafka duplicates that the consumer's inbox must skip.
        var originals = topic.ReadAvailable().Where(r => r.Headers.ContainsKey(MessageHeaders.EventId)).Take(RealRecordCopies).ToList();
        originals.Count.ShouldBe(RealRecordCopies);
        foreach (var original in originals)
        {
            var headers = new Headers();
            foreach (var (name, value) in original.Headers)
            {
                headers.Add(name, Utf8(value));
            }

            await producer.ProduceAsync(rig.Topics.Topic, new Message<byte[]?, byte[]?>
            {
                Key = Utf8(original.Key), Value = Utf8(original.Value), Headers = headers,
            }, TestContext.Current.CancellationToken);
        }

        await sending;
        var expectedDeadLetters = written.Count(b => b.DeadLettered);

        // The operator's part: the bad records on real orders' keys hold those orders until someone
        // decides; here they are discarded, which releases the orders' later events in order. An
        // unknown-version event parked behind a hold becomes the next dead letter when released, so
        // the operator goes on until every bad record is dead-lettered and no real order is held.
        var operations = new OperatorClient(app.OperatorClient());
        await Eventually.Until(async () =>
        {
            var all = await operations.ListAsync();
            var holding = all.Where(d => d.Status == DeadLetterStatus.Unresolved && d.OrderId is { } order && held.Contains(order)).ToList();
            foreach (var deadLetter in holding)
            {
                (await operations.DiscardAsync(deadLetter.Id)).IsSuccessStatusCode.ShouldBeTrue();
            }

            return (all.Count, Holding: holding.Count);
        }, state => state.Count == expectedDeadLetters && state.Holding == 0, TimeSpan.FromSeconds(120), "every bad record dead-lettered, no real order held");

        var finished = System.Diagnostics.Stopwatch.StartNew();
        await rig.WaitForDrainAsync(TimeSpan.FromSeconds(120), deadLetters: expectedDeadLetters);
        var drain = finished.Elapsed;

        var audit = await rig.AuditAsync();
        workload.ShouldHaveHadOnlyExpectedAnswers();
        audit.ShouldKeepThePromise(workload.ConfirmedOrderIds, expectedDeadLetters: expectedDeadLetters);
        audit.DeadLetterRecords.ShouldBe(expectedDeadLetters, "each unreadable record is on the dead-letter topic once");
        audit.KafkaDuplicates.ShouldBe(RealRecordCopies);
        ReliabilityReport.Record(ScenarioResult.From(audit,
            "S7",
            "Malformed and unknown-version records among the real ones",
            nameof(MalformedAndUnknownVersionRecordsAmongRealOrders_AreDeadLetteredOnce_AndEveryOrderIsExportedOnce),
            $"{written.Count} bad records written straight to order-export while orders flow ({Corpus.Length} kinds x {CopiesOfEachKind}: "
                + $"{string.Join(", ", Corpus.Select(c => c.Kind))}), a third of them on real orders' keys, "
                + $"and {RealRecordCopies} exact copies of real records") with
        {
            OrdersSent = workload.Sent,
            DrainSeconds = drain.TotalSeconds,
            DurationSeconds = rig.Elapsed.TotalSeconds,
            Notes = $"expected dead letters: every unreadable record ({string.Join(", ", audit.DeadLetterTypes.Select(t => $"{t.Key}: {t.Value}"))}); "
                + $"{held.Count} real orders held by a bad record on their key until an operator discarded it (their later events then exported in order; an unknown-version event behind a hold waited its turn); "
                + "the forged control records are no-ops; drain timed from the discards",
        });
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
