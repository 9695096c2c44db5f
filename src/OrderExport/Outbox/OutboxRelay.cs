using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrderExport.Hosting;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Telemetry;

namespace OrderExport.Outbox;

/// <summary>
/// Publishes outbox rows to Kafka. Each round claims a batch of publishable rows (in id order,
/// only the earliest unpublished row of each order), produces them all at once with the
/// idempotent producer, waits for the broker's acknowledgements, then marks the acknowledged
/// rows published and records attempts, error and a backoff on the others. A row is never
/// dropped. If the process dies between ack and mark, the rows are published again on restart:
/// the consumer's inbox turns that into exactly-once export. See docs/decisions/0005-outbox-relay.md.
/// </summary>
public sealed partial class OutboxRelay(
    IServiceScopeFactory scopes,
    KafkaProducer producer,
    OutboxSignal signal,
    SqlDialect dialect,
    IOptions<OutboxOptions> outboxOptions,
    IOptions<KafkaOptions> kafkaOptions,
    OrderExportMetrics metrics,
    DatabaseSchema schema,
    TimeProvider time,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private readonly OutboxOptions _options = outboxOptions.Value;
    private readonly string _topic = kafkaOptions.Value.Topic;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly ClaimMark _mark = new();

    // librdkafka reports every record within message.timeout.ms; a producer closed under the batch
    // (replaced after a fatal error) may never report. Past this the round fails and nothing is marked.
    private readonly TimeSpan _deliveryDeadline = TimeSpan.FromMilliseconds(kafkaOptions.Value.Producer.MessageTimeoutMs) + TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.RelayEnabled)
        {
            LogDisabled();
            return;
        }

        // Started without a reachable database, the service migrates later: no claim before that.
        await schema.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        await ConnectProducerAsync(stoppingToken);

        // PostgreSQL's and SQL Server's claims lock what they take (FOR UPDATE SKIP LOCKED; UPDLOCK,
        // READPAST) and never take a row whose order has an earlier unpublished one, so several loops
        // relay at once as safely as several instances do (ADR 5). SQLite's claim holds no lock: one loop.
        var loops = dialect.ClaimHoldsTransaction ? _options.Concurrency : 1;
        // The first loop wakes on commits; the others for a backlog, which a full batch announces
        // (all of them poll). So under a steady load one loop claims everything that has committed, in
        // batches as large as the load makes them, and only a backlog has several loops draining it,
        // one's claim and marks in the database while another waits for the broker's acks.
        var backlog = new OutboxSignal();
        await Task.WhenAll(Enumerable.Range(0, loops).Select(i => RelayLoopAsync(i == 0 ? signal : backlog, backlog, stoppingToken)));
    }

    /// <summary>
    /// Connects the producer before the first claim (<see cref="KafkaProducer.Connect"/>). A broker
    /// that does not answer only delays the first round by the bound: the rounds retry on their own.
    /// </summary>
    private async Task ConnectProducerAsync(CancellationToken stoppingToken)
    {
        try
        {
            // GetMetadata blocks a thread until the broker answers.
            await Task.Run(() => producer.Connect(_topic, ConnectTimeout), stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogConnectFailed(ex, ConnectTimeout);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down before the relay started
        }
    }

    private async Task RelayLoopAsync(OutboxSignal wakeOn, OutboxSignal backlog, CancellationToken stoppingToken)
    {
        var failures = 0;
        // While batches come back full, claims resume at the instance's mark (ClaimMark). A claim from
        // the start follows when the rows after the mark run out, after a failed round, and at least
        // every PollInterval, for what the mark cannot know about.
        var resume = false;
        var sweptAt = time.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            int claimed;
            try
            {
                if (!resume)
                {
                    sweptAt = time.GetTimestamp();
                }

                claimed = await RelayBatchAsync(resume ? _mark.ResumeAfter() : 0, stoppingToken);
                failures = 0;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database or the producer is unavailable: nothing was marked, so nothing is lost.
                failures++;
                resume = false;
                var delay = Backoff.Exponential(failures, _options.RetryInitialDelay, _options.RetryMaxDelay);
                LogRoundFailed(ex, delay);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            if (claimed == _options.BatchSize)
            {
                // A full batch: there is probably more. Claim again at once, and wake a waiting loop to
                // claim alongside (with one loop, nobody waits for this signal).
                backlog.Notify();
                resume = time.GetElapsedTime(sweptAt) < _options.PollInterval;
                continue;
            }

            if (resume)
            {
                // Nothing more after the mark: claim from the start at once for what it passed over.
                resume = false;
                continue;
            }

            try
            {
                // Every loop also polls, so rows keep moving while the first loop waits out a slow batch
                // (a partition without a leader holds its produce up to message.timeout.ms) or a backoff.
                await wakeOn.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One claim-publish-mark round, of rows with an id above <paramref name="after"/>. Returns how many rows were claimed.</summary>
    internal async Task<int> RelayBatchAsync(long after, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<OutboxStore>();

        // PostgreSQL: the claim's row locks last until the marks commit, so concurrent relays in
        // other instances skip these rows (and, through the claim's NOT EXISTS, later rows of
        // the same orders). SQLite: single instance, short write transaction for the marks only.
        await using var claimTransaction = dialect.ClaimHoldsTransaction ? await store.BeginAsync(cancellationToken) : null;
        var batch = await store.ClaimAsync(time.GetUtcNow().UtcDateTime, after, _options.BatchSize, cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }

        _mark.Claimed(batch[^1].Id, batch.Count == _options.BatchSize); // the claim returns rows in id order

        var outcomes = await PublishAsync(batch);

        // From here on the broker has the records: finish the marks even while shutting down,
        // or every deploy would publish the batch a second time.
        cancellationToken = CancellationToken.None;
        await using var markTransaction = claimTransaction is null ? await store.BeginAsync(cancellationToken) : null;
        var now = time.GetUtcNow().UtcDateTime;
        var publishedIds = new List<long>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            if (outcomes[i] is null)
            {
                publishedIds.Add(message.Id);
                continue;
            }

            var next = now + Backoff.Exponential(message.Attempts + 1, _options.RetryInitialDelay, _options.RetryMaxDelay);
            await store.MarkFailedAsync(message.Id, outcomes[i]!, next, cancellationToken);
            LogPublishFailed(message.OrderId, message.EventId, message.Attempts + 1, outcomes[i]!, next);
        }

        await store.MarkPublishedAsync(publishedIds, now, cancellationToken);
        await (claimTransaction ?? markTransaction)!.CommitAsync(cancellationToken);
        metrics.OutboxPublished(publishedIds.Count);
        metrics.OutboxPublishFailed(batch.Count - publishedIds.Count);
        LogBatchPublished(publishedIds.Count, batch.Count - publishedIds.Count);
        return batch.Count;
    }

    /// <summary>
    /// Produces the whole batch without awaiting one by one, and returns when the broker has answered
    /// for every record: null where it acknowledged, else why not. One completion for the batch, not a
    /// task per record: the delivery handlers, run on the producer's poll thread, only count down.
    /// </summary>
    private async Task<string?[]> PublishAsync(List<PendingOutboxMessage> batch)
    {
        var kafka = producer.Producer;
        var deliveries = new BatchDeliveries(batch.Count);
        var spans = new Activity?[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            var key = message.OrderId.ToString();
            spans[i] = OrderExportActivities.StartPublish(_topic, message.TraceParent, message.TraceState, message.EventId, key);
            // The record carries the publish span's context, so the consumer's span is its child.
            var (traceParent, traceState) = OrderExportActivities.Context(spans[i], message.TraceParent, message.TraceState);
            try
            {
                kafka.Produce(_topic, ToKafkaMessage(message, key, traceParent, traceState), deliveries.HandlerFor(i));
            }
            catch (Exception ex)
            {
                // Refused before it left the process (local queue full, producer closing): no report will come.
                deliveries.Refused(i, Describe(ex));
            }
        }

        string?[]? outcomes = null;
        try
        {
            outcomes = await deliveries.Completion.WaitAsync(_deliveryDeadline, time);
            return outcomes;
        }
        finally
        {
            for (var i = 0; i < spans.Length; i++)
            {
                if ((outcomes is null ? "no delivery report" : outcomes[i]) is { } error)
                {
                    spans[i]?.SetStatus(ActivityStatusCode.Error, error);
                }

                spans[i]?.Dispose();
            }
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        KafkaException kafka => $"{kafka.Error.Code}: {kafka.Error.Reason}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    internal static Message<string, byte[]> ToKafkaMessage(PendingOutboxMessage message, string key, string? traceParent, string? traceState)
    {
        var headers = new Headers
        {
            { MessageHeaders.EventId, EventIdBytes(message.EventId) },
            { MessageHeaders.EventType, HeaderValues.Utf8(message.EventType) },
            { MessageHeaders.SchemaVersion, HeaderValues.Utf8(message.SchemaVersion) },
        };

        return new Message<string, byte[]>
        {
            Key = key,
            Value = Encoding.UTF8.GetBytes(message.Payload),
            Headers = TraceHeaders.Add(headers, traceParent, traceState),
        };
    }

    // The id's "D" text (36 ASCII characters) written as UTF-8 directly, without the string in between.
    private static byte[] EventIdBytes(Guid eventId)
    {
        var bytes = new byte[36];
        eventId.TryFormat(bytes, out _);
        return bytes;
    }

    /// <summary>Counts a batch's delivery reports down; completes once every record has one outcome.</summary>
    private sealed class BatchDeliveries(int count)
    {
        private readonly string?[] _outcomes = new string?[count];
        private readonly TaskCompletionSource<string?[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending = count;

        public Task<string?[]> Completion => _outcomes.Length == 0 ? Task.FromResult(_outcomes) : _done.Task;

        public Action<DeliveryReport<string, byte[]>> HandlerFor(int index) =>
            report => Complete(index, report.Error.IsError ? $"{report.Error.Code}: {report.Error.Reason}" : null);

        public void Refused(int index, string error) => Complete(index, error);

        private void Complete(int index, string? error)
        {
            _outcomes[index] = error;
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.TrySetResult(_outcomes);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay is disabled (Outbox:RelayEnabled=false)")]
    private partial void LogDisabled();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not answer the relay's producer within {Timeout}; relaying starts anyway and retries")]
    private partial void LogConnectFailed(Exception exception, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay round failed; retrying in {RetryDelay}")]
    private partial void LogRoundFailed(Exception exception, TimeSpan retryDelay);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Publishing outbox event {EventId} of order {OrderId} failed (attempt {Attempt}): {Error}; next attempt at {NextAttemptUtc:o}")]
    private partial void LogPublishFailed(Guid orderId, Guid eventId, int attempt, string error, DateTime nextAttemptUtc);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox relay published {Published} events, {Failed} failed")]
    private partial void LogBatchPublished(int published, int failed);
}
