using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Messaging;
using OrderExport.Telemetry;

namespace OrderExport.Export;

/// <summary>
/// Writes a failed record, unchanged, to the dead-letter topic with why it failed in its headers,
/// and waits for the broker's acknowledgement: only then may the consumer move past it.
/// </summary>
public sealed class DeadLetterPublisher(KafkaProducer producer, IOptions<KafkaOptions> options)
{
    private readonly string _topic = options.Value.DeadLetterTopic;

    public async Task PublishAsync(IncomingRecord record, DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        // Child of the consumer's span; the dead-letter record carries its context onwards.
        using var activity = OrderExportActivities.Source.StartActivity($"{_topic} publish", ActivityKind.Producer)?
            .SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "send")
            .SetTag("messaging.destination.name", _topic)
            .SetTag("orderexport.error_type", deadLetter.ErrorType);
        var headers = new Headers();
        foreach (var (key, value) in record.Headers)
        {
            // Our own dlq-* and control headers describe this delivery, not the message.
            if (!key.StartsWith("dlq-", StringComparison.Ordinal) && !key.StartsWith("orderexport-", StringComparison.Ordinal)
                && key is not (MessageHeaders.TraceParent or MessageHeaders.TraceState))
            {
                headers.Add(key, value);
            }
        }

        var (traceParent, traceState) = OrderExportActivities.Context(
            activity, record.Header(MessageHeaders.TraceParent), record.Header(MessageHeaders.TraceState));
        TraceHeaders.Add(headers, traceParent, traceState);
        Add(headers, DeadLetterHeaders.OriginalTopic, deadLetter.Topic);
        Add(headers, DeadLetterHeaders.OriginalPartition, deadLetter.Partition.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.OriginalOffset, deadLetter.Offset.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.ErrorType, deadLetter.ErrorType);
        Add(headers, DeadLetterHeaders.ErrorMessage, deadLetter.ErrorMessage);
        Add(headers, DeadLetterHeaders.Attempts, deadLetter.Attempts.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.FirstFailureAt, deadLetter.FirstFailureAtUtc.ToString("O", CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.LastFailureAt, deadLetter.LastFailureAtUtc.ToString("O", CultureInfo.InvariantCulture));
        if (deadLetter.EventId is { } eventId && record.Header(MessageHeaders.EventId) is null)
        {
            Add(headers, MessageHeaders.EventId, eventId.ToString());
        }

        // The original key bytes (a binary key stays binary), so the dead letter is keyed as its record was.
        using var raw = producer.RawProducer();
        await raw.ProduceAsync(_topic, new Message<byte[], byte[]>
        {
            Key = deadLetter.KeyBytes()!,
            Value = record.Value ?? [],
            Headers = headers,
        }, cancellationToken);
    }

    private static void Add(Headers headers, string key, string value) => headers.Add(key, Encoding.UTF8.GetBytes(value));
}
