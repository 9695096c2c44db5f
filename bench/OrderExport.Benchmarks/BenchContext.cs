using System.Diagnostics;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Persistence;

namespace OrderExport.Benchmarks;

/// <summary>What every scenario shares: the options, the results so far, progress logging, fresh databases.</summary>
internal sealed class BenchContext(BenchOptions options)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public BenchOptions Options { get; } = options;

    public List<Measurement> Results { get; } = [];

    public string SqliteFolder { get; } = Path.Combine(Path.GetTempPath(), $"orderexport-bench-{Environment.ProcessId}");

    public bool HasPostgres => !string.IsNullOrEmpty(Options.Postgres);

    public Measurement? Find(string key) => Results.FirstOrDefault(m => m.Key == key);

    /// <summary>The measurement with this key, created on its first run.</summary>
    public Measurement Measure(string key, string section, string name, string unit)
    {
        if (Find(key) is { } existing)
        {
            return existing;
        }

        var measurement = new Measurement(key, section, name, unit);
        Results.Add(measurement);
        return measurement;
    }

    public void Log(string message) => Console.Error.WriteLine($"[bench {_clock.Elapsed:mm\\:ss}] {message}");

    public Task<BenchDatabase> NewDatabaseAsync(DatabaseProvider provider, bool synchronousCommit = false) =>
        provider == DatabaseProvider.Postgres
            ? BenchDatabase.CreatePostgresAsync(Options.Postgres!, synchronousCommit)
            : Task.FromResult(BenchDatabase.CreateSqlite(SqliteFolder));

    /// <summary>The providers measured: PostgreSQL when eng/start-postgres.sh gave one, and SQLite.</summary>
    public IEnumerable<DatabaseProvider> Providers() =>
        HasPostgres ? [DatabaseProvider.Postgres, DatabaseProvider.Sqlite] : [DatabaseProvider.Sqlite];

    public static string Label(DatabaseProvider provider) => provider == DatabaseProvider.Postgres ? "PostgreSQL" : "SQLite";

    public static string Tag(DatabaseProvider provider) => provider == DatabaseProvider.Postgres ? "pg" : "sqlite";
}
