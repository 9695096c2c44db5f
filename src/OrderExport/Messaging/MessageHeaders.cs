namespace OrderExport.Messaging;

/// <summary>Kafka header names carried by every record.</summary>
public static class MessageHeaders
{
    public const string EventId = "event-id";
    public const string EventType = "event-type";
    public const string SchemaVersion = "schema-version";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
}

/// <summary>
/// Headers of control records that operators' actions put on <c>order-export</c> (same key as
/// the order, so they queue behind the order's earlier records on its partition).
/// </summary>
public static class ControlHeaders
{
    /// <summary>The record is a replay of the dead letter with this id; its value is the original record's.</summary>
    public const string ReplayOf = "orderexport-replay-of";

    /// <summary>Release the parked events of this order (its dead letter was discarded).</summary>
    public const string ReleaseOrder = "orderexport-release-order";
}

/// <summary>Kafka header names on dead-letter records.</summary>
public static class DeadLetterHeaders
{
    public const string OriginalTopic = "dlq-original-topic";
    public const string OriginalPartition = "dlq-original-partition";
    public const string OriginalOffset = "dlq-original-offset";
    public const string ErrorType = "dlq-error-type";
    public const string ErrorMessage = "dlq-error-message";
    public const string Attempts = "dlq-attempts";
    public const string FirstFailureAt = "dlq-first-failure-at";
    public const string LastFailureAt = "dlq-last-failure-at";
}
