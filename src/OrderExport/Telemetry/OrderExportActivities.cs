using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrderExport.Telemetry;

/// <summary>
/// The service's spans. One trace runs from the HTTP confirm through the outbox write, the
/// relay's publish, the Kafka record (W3C <c>traceparent</c> header), the consumer's process
/// span and every platform call attempt (HttpClient's own spans), to a dead letter or replay.
/// Messaging spans follow OpenTelemetry's messaging conventions (<c>{destination} {operation}</c>,
/// kind Producer/Consumer, <c>messaging.*</c> attributes).
/// </summary>
public static class OrderExportActivities
{
    public const string SourceName = "OrderExport";

    public static readonly ActivitySource Source = new(SourceName);

    private static readonly ConcurrentDictionary<string, string> PublishNames = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ProcessNames = new(StringComparer.Ordinal);

    /// <summary>A publish span for one record, child of <paramref name="parentTraceParent"/> (the outbox write).</summary>
    public static Activity? StartPublish(string topic, string? parentTraceParent, string? parentTraceState, Guid eventId, string key)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(parentTraceParent, parentTraceState, out var parent);
        // Many publish spans are open at once in a batch; none of them may parent the others.
        var previous = Activity.Current;
        var activity = Source.StartActivity(SpanName(PublishNames, topic, " publish"), ActivityKind.Producer, parent);
        Activity.Current = previous;
        return activity?
            .SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "send")
            .SetTag("messaging.operation.name", "publish")
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.message.id", eventId.ToString())
            .SetTag("messaging.kafka.message.key", key);
    }

    /// <summary>The consumer's span for one record, child of the span whose context the record carries.</summary>
    public static Activity? StartProcess(string topic, int partition, long offset, string consumerGroup, string? traceParent, string? traceState)
    {
        ActivityContext.TryParse(traceParent, traceState, out var parent);
        return Source.StartActivity(SpanName(ProcessNames, topic, " process"), ActivityKind.Consumer, parent)?
            .SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.destination.partition.id", partition.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .SetTag("messaging.kafka.offset", offset)
            .SetTag("messaging.consumer.group.name", consumerGroup);
    }

    /// <summary>The W3C headers of <paramref name="activity"/>, or of the span it stands for when tracing is off.</summary>
    public static (string? TraceParent, string? TraceState) Context(Activity? activity, string? fallbackParent = null, string? fallbackState = null) =>
        activity is { IdFormat: ActivityIdFormat.W3C }
            ? (activity.Id, activity.TraceStateString)
            : (fallbackParent, fallbackState);

    // "{destination} {operation}" for every record of a topic: built once per topic, not per record.
    private static string SpanName(ConcurrentDictionary<string, string> names, string topic, string operation) =>
        names.TryGetValue(topic, out var name) ? name : names.GetOrAdd(topic, topic + operation);
}
