using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Npgsql;
using OrderExport.Export;
using OrderExport.Messaging;
using OrderExport.Outbox;

namespace OrderExport.Benchmarks.Reporting;

/// <summary>Everything a reader needs to judge the numbers: machine, runtime, GC, database durability, client settings.</summary>
internal static class MachineFacts
{
    public static async Task<List<(string Name, string Value)>> CollectAsync(BenchContext context)
    {
        var facts = new List<(string, string)>
        {
            ("CPU", $"{CpuModel()} (model name in /proc/cpuinfo)"),
            ("Cores", $"{Environment.ProcessorCount} logical"),
            ("Memory", Memory()),
            ("OS", $"{OsName()}, Linux kernel {(File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "?")}"),
            (".NET", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), tiered compilation and PGO at their defaults"),
            ("GC", $"{(GCSettings.IsServerGC ? "Server" : "Workstation")}, concurrent {((AppContext.TryGetSwitch("System.GC.Concurrent", out var c) ? c : true) ? "on" : "off")}, latency mode {GCSettings.LatencyMode}"),
            ("Load average at start", LoadAverage()),
            ("librdkafka", $"{Library.VersionString}; broker: librdkafka's mock cluster (one thread, in this process), a fresh one per run"),
            ("Producer", Producer()),
            ("Outbox relay", Relay()),
            ("Consumer", Consumer()),
            ("Logging", "Warning and above (EF Core SQL logging off; librdkafka debug off); no OTLP export configured"),
        };
        if (context.HasPostgres)
        {
            facts.Add(("PostgreSQL", await PostgresAsync(context.Options.Postgres!)));
        }

        facts.Add(("SQLite", await SqliteAsync(context)));
        if (context.Options.Commit is { Length: > 0 } commit)
        {
            facts.Add(("Source", commit));
        }

        if (context.Options.Overrides.Count > 0)
        {
            facts.Add(("Overrides", string.Join(", ", context.Options.Overrides.Select(o => $"{o.Key}={o.Value}"))));
        }

        return facts;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1/5/15 min)" : "n/a";

    /// <summary>The file system type holding <paramref name="path"/>, from the longest matching mount point.</summary>
    private static string FileSystem(string path)
    {
        if (!File.Exists("/proc/mounts"))
        {
            return "unknown";
        }

        var mount = File.ReadLines("/proc/mounts")
            .Select(l => l.Split(' '))
            .Where(f => f.Length > 2 && path.StartsWith(f[1], StringComparison.Ordinal))
            .MaxBy(f => f[1].Length);
        return mount is null ? "unknown" : $"{mount[2]} ({mount[0]} at {mount[1]})";
    }

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";

    private static string Memory()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First() : null;
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kb is null ? "unknown" : $"{long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB";
    }

    private static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "Linux"
            : RuntimeInformation.OSDescription;

    private static string Producer()
    {
        var p = new KafkaOptions().Producer;
        return $"acks=all, enable.idempotence=true, linger.ms={p.LingerMs}, batch.size={p.BatchSize}, compression={p.CompressionType.ToString().ToLowerInvariant()}, "
            + $"message.timeout.ms={p.MessageTimeoutMs}, max.in.flight={p.MaxInFlight} (the service defaults, Messaging/KafkaOptions.cs); topic order-export, {new KafkaOptions().Partitions} partitions";
    }

    private static string Relay()
    {
        var o = new OutboxOptions();
        return $"BatchSize={o.BatchSize}, Concurrency={o.Concurrency} loop(s), PollInterval={o.PollInterval.TotalSeconds:0.#} s, ListenForNotifications={o.ListenForNotifications} (defaults)";
    }

    private static string Consumer()
    {
        var o = new ConsumerOptions();
        return $"one poll loop and a worker per assigned partition ({new KafkaOptions().Partitions}), QueuePerPartition={o.QueuePerPartition}, MaxInFlightPerPartition={o.MaxInFlightPerPartition}, BookkeepingBatchSize={o.BookkeepingBatchSize}; AutoCommitIntervalMs={o.AutoCommitIntervalMs}; fake platform answers 200 at once over loopback HTTP (the platform client's pool: no connection cap, one handler for the process's life, Platform/PlatformConnections.cs)";
    }

    private static async Task<string> PostgresAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var settings = new List<string>();
        foreach (var name in new[] { "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_connections" })
        {
            await using var show = new NpgsqlCommand($"SHOW {name}", connection);
            settings.Add($"{name}={await show.ExecuteScalarAsync()}");
        }

        return $"{connection.PostgreSqlVersion} (private throw-away cluster from eng/start-postgres.sh, same machine): {string.Join(", ", settings)}";
    }

    private static async Task<string> SqliteAsync(BenchContext context)
    {
        await using var database = await context.NewDatabaseAsync(OrderExport.Persistence.DatabaseProvider.Sqlite);
        await using var connection = new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; SELECT sqlite_version(), (SELECT synchronous FROM pragma_synchronous)";
        await using var reader = await pragma.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        var synchronous = reader.GetInt32(1) switch { 0 => "OFF", 1 => "NORMAL", 2 => "FULL", 3 => "EXTRA", var n => n.ToString(CultureInfo.InvariantCulture) };
        return $"{reader.GetString(0)}, journal_mode=WAL (set by the service), synchronous={synchronous} (the default; in WAL mode FULL syncs the WAL on every commit), "
            + $"files in {context.SqliteFolder} on {FileSystem(context.SqliteFolder)}";
    }
}
