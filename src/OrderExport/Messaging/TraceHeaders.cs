using System.Text;
using Confluent.Kafka;

namespace OrderExport.Messaging;

/// <summary>
/// The W3C trace context on a record (<c>traceparent</c>, and <c>tracestate</c> when there is
/// one), so whoever reads it continues the writer's trace. Every record the service writes gets
/// them here: the relay's, the dead-letter topic's and the operators' control records.
/// </summary>
public static class TraceHeaders
{
    public static Headers Add(Headers headers, string? traceParent, string? traceState)
    {
        if (traceParent is not null)
        {
            headers.Add(MessageHeaders.TraceParent, Encoding.UTF8.GetBytes(traceParent));
        }

        if (!string.IsNullOrEmpty(traceState))
        {
            headers.Add(MessageHeaders.TraceState, Encoding.UTF8.GetBytes(traceState));
        }

        return headers;
    }
}
