using System.Text.Json;

namespace OrderExport.IntegrationTests.Reliability;

/// <summary>
/// The numbers of one reliability scenario, as one row of docs/reliability.md. Counts are of
/// export requests ("events": one per confirm or re-export, the outbox rows), not of HTTP calls.
/// </summary>
public sealed record ScenarioResult
{
    /// <summary>Short id that orders the report ("S1", "B1", ...).</summary>
    public required string Id { get; init; }

    public required string Title { get; init; }

    /// <summary>The test that produced the row.</summary>
    public required string Test { get; init; }

    /// <summary>What was done to the system, in words, with durations and counts.</summary>
    public required string Faults { get; init; }

    public int OrdersSent { get; init; }

    public int Events { get; init; }

    /// <summary>Events the platform stored (first acceptance of their Idempotency-Key), each under one key only.</summary>
    public int ExportedOnce { get; init; }

    /// <summary>Events neither exported nor dead-lettered.</summary>
    public int Lost { get; init; }

    /// <summary>One order request stored twice by the platform (under two keys): must be 0.</summary>
    public int ExportedTwice { get; init; }

    /// <summary>Extra records of an event id on order-export (Kafka saw it more than once).</summary>
    public int KafkaDuplicates { get; init; }

    /// <summary>Records handled again by the consumer after a crash (redeliveries, not extra records).</summary>
    public int Redelivered { get; init; }

    /// <summary>Platform calls answered 200 for an already accepted key (absorbed by the Idempotency-Key).</summary>
    public int PlatformDuplicateCalls { get; init; }

    public int DeadLettered { get; init; }

    /// <summary>Outbox rows still unpublished at the end: must be 0.</summary>
    public int Unpublished { get; init; }

    /// <summary>From the end of the (last) fault until every event was exported or dead-lettered.</summary>
    public double? DrainSeconds { get; init; }

    public double DurationSeconds { get; init; }

    public string? Notes { get; init; }

    /// <summary>A row with the audit's counts; the scenario adds what only it knows (<c>with { ... }</c>).</summary>
    public static ScenarioResult From(AuditResult audit, string id, string title, string test, string faults) => new()
    {
        Id = id,
        Title = title,
        Test = test,
        Faults = faults,
        Events = audit.Events,
        ExportedOnce = audit.ExportedOnce,
        Lost = audit.Lost,
        ExportedTwice = audit.ExportedTwice,
        KafkaDuplicates = audit.KafkaDuplicates,
        PlatformDuplicateCalls = audit.PlatformDuplicateCalls,
        DeadLettered = audit.DeadLetters,
        Unpublished = audit.Unpublished,
    };
}

/// <summary>
/// Appends scenario rows to the JSON lines file named by ORDEREXPORT_RELIABILITY_REPORT
/// (eng/reliability-report.sh sets it and renders docs/reliability.md); does nothing otherwise.
/// </summary>
public static class ReliabilityReport
{
    public const string Variable = "ORDEREXPORT_RELIABILITY_REPORT";

    private static readonly Lock Gate = new();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A scenario's id per database: PostgreSQL keeps the plain id, SQL Server's run is "S4-SQL".</summary>
    public static string IdFor(string id, OrderExport.Persistence.DatabaseProvider provider) =>
        provider == OrderExport.Persistence.DatabaseProvider.Postgres ? id : $"{id}-SQL";

    public static string TitleFor(string title, OrderExport.Persistence.DatabaseProvider provider) =>
        provider == OrderExport.Persistence.DatabaseProvider.Postgres ? title : $"{title} (SQL Server)";

    public static void Record(ScenarioResult result)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
        {
            return;
        }

        var line = JsonSerializer.Serialize(result with
        {
            DrainSeconds = result.DrainSeconds is { } d ? Math.Round(d, 2) : null,
            DurationSeconds = Math.Round(result.DurationSeconds, 1),
        }, Json);
        lock (Gate)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }
}
