using System.Globalization;

namespace OrderExport.Benchmarks.Reporting;

/// <summary>How every number is taken, written next to the numbers so they can be judged.</summary>
internal static class Method
{
    public static string Text(BenchOptions o) => string.Create(CultureInfo.InvariantCulture, $"""
        ## Method

        - **Process.** One console program (`bench/OrderExport.Benchmarks`) hosts the real service in-process
          (`AddOrderExport` + `MapOrderExport`, Kestrel on 127.0.0.1:0, Release build) with configuration overrides
          only; nothing in `src/` is changed or bypassed. Each run gets a fresh database (a new PostgreSQL database or
          SQLite file; the service's migrator creates the schema), a fresh service host and a fresh embedded broker
          started exactly as the service starts it when `Kafka:BootstrapServers` is empty. A shared broker for the
          whole run was not used: the service sets the consumer's `fetch.wait.max.ms` to 10 ms only for its own
          embedded broker (100 ms for a configured one, where the mock cluster answers an empty fetch only after the full
          wait), and the broker's memory would pile up across runs inside the process whose working set is measured.
        - **Runs.** Measurements are interleaved: round 1 runs every measurement once, then round 2, and so on
          ({o.Runs} round(s)), so a change in the machine's background load hits all of them alike; latency rounds follow
          the throughput rounds because their load is a fraction of the measured maximum. Each run starts with a
          warm-up that is discarded ({o.WarmUp.TotalSeconds:0.#} s of the same load; 2,000 records for the raw produce).
        - **The write.** "Save order + outbox row" is the service's own path: a DbContext from the service's container
          (with its domain-event interceptor), `Order.Create` + `Order.Confirm`, one `SaveChangesAsync`: one
          transaction inserting the order and its outbox row, after which the interceptor signals the relay.
          Throughput runs use {o.Writers} closed-loop writers and count operations completed inside a
          {o.Window.TotalSeconds:0.#} s window. The database-time share comes from EF Core's own interceptor timings
          (connection open, BEGIN, the batched INSERTs, COMMIT).
        - **Raw database rate:** that write with `Outbox:RelayEnabled=false` and `Consumer:Enabled=false`.
          **Raw produce:** {o.ProduceMessages:N0} records of the same size and shape, `Produce` with delivery callbacks
          through a producer built by the service's `KafkaProducer` (so its settings are the service defaults),
          timed from the first `Produce` to the last delivery report. **Direct publish (Spring sample):** commit the order
          without an outbox row (a context without the interceptor), then `ProduceAsync` the same record through the
          service's producer without waiting for the ack (as an after-commit listener does); all acks are awaited
          before the run ends.
        - **End to end:** the default service (relay and consumer on) under the closed-loop writers, who hold off
          while {Scenarios.EndToEnd.MaxInFlight} orders are written but not yet at the platform (so the pipeline runs at
          the pace it can sustain, with a bounded backlog, instead of growing one without end); throughput is what the
          fake platform accepted within the window (it answers 200 at once, over loopback HTTP through the service's
          Polly pipeline). Written and relayed rates of the same window show which stage sets the pace.
        - **Relay drain:** {o.DrainRows:N0} outbox rows (distinct orders, the service's envelope) written in one
          transaction (PostgreSQL: one binary `COPY`; SQLite: one prepared INSERT per row, as SQLite has no COPY)
          while the relay idles; the clock starts at the commit, which wakes the relay (NOTIFY, plus the in-process
          signal a local commit sends) and stops when a 20 ms poll finds no unpublished row. The topic has
          {o.DrainPartitions} partitions; the embedded broker keeps only ~5 MiB / 100k message sets per partition, so
          after every drain and raw-produce run the harness checks each partition's low and high watermarks: a record
          that fell out of retention would show as "lost" (none did if the column says 0).
        - **Consumer drain** (stage capacity): one host writes {o.ConsumerBacklog:N0} orders and relays them; a second
          host on the same broker runs only the consumer; the rate runs from the first to the last platform call.
          The default (16 orders per partition side by side) and strict offset order (1) side by side.
        - **Platform call:** the service with relay and consumer off; as many closed-loop callers as the consumer
          may have exports in flight (partitions × `Consumer:MaxInFlightPerPartition`) call the fake platform over
          loopback, once from a plain `HttpClient` (the fake platform alone) and once through the service's own
          platform client (HttpClient factory, resilience pipeline, attempt handler). CPU is this whole process:
          client and server.
        - **Latency:** open loop on PostgreSQL at 10% and 50% of the median end-to-end throughput on PostgreSQL. A
          dedicated thread sleeps (`clock_nanosleep`, no spinning) to each intended send time and starts the send
          without waiting for earlier ones; every latency is measured from the intended time, so a stall shows up in
          full (no coordinated omission); "generator lag" is how late the thread started sends. Windows last for about
          {o.LatencySamples:N0} samples ({o.LatencyMinWindow.TotalSeconds:0}–{o.LatencyMaxWindow.TotalSeconds:0} s) after a
          {o.LatencyWarmUp.TotalSeconds:0} s warm-up; then the harness waits (up to 20 s) for every order to reach the
          platform. *Broker ack* for the relay is the outbox row's `published_at`, which the relay stamps right after
          the whole batch was acknowledged (the Kafka record timestamp is the producer's CreateTime, i.e. when the
          relay called produce, not when the broker acknowledged; the mock broker cannot stamp LogAppendTime); for the
          direct publish it is when `ProduceAsync` completed. *Platform* is when the fake platform received the
          order's accepted export. All clocks are this machine's UTC clock.
        - **Polling only:** `Outbox:ListenForNotifications=false` turns off LISTEN/NOTIFY, but the in-process signal
          (`DomainEventsInterceptor` → `OutboxSignal`) has no switch. So the writes come from a second service host
          (relay and consumer off) on the same database: its signal reaches only its own, disabled relay, and the
          relay host wakes by its 1 s poll alone, as it would for writes made by another instance.
        - **Cost:** `Process.TotalProcessorTime` delta over the window (the whole process: service, harness and the
          in-process broker), PostgreSQL's CPU from `/proc` (postmaster + children + reaped children), working set
          sampled every 50 ms (the window's peak; `PeakWorkingSet64` is process-lifetime and only grows), machine-wide
          busy share from `/proc/stat`, and per-thread CPU from `/proc/self/task`.
        - **Not measured here:** a real Kafka cluster (no broker but librdkafka's mock runs on this machine), PostgreSQL
          with fsync on (`eng/start-postgres.sh` sets fsync=off on the server's command line, which `ALTER SYSTEM`
          cannot override; the synchronous_commit=on row therefore adds the synchronous WAL write, not a disk flush),
          OTLP export of the service's spans and metrics.
        """);
}
