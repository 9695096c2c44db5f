using System.Reflection;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using OrderExport.Persistence;

namespace OrderExport.UnitTests.Persistence;

/// <summary>
/// Every T-SQL script and every statement the SQL Server dialect sends, parsed with ScriptDom (SQL
/// Server's own parser, as a library): a syntax error fails here, on machines without SQL Server.
/// Parsing proves syntax, not semantics (a wrong column name parses); the per-provider integration
/// tests prove those where a SQL Server runs.
/// </summary>
public sealed class SqlServerDialectTests
{
    private static readonly SqlServerDialect Dialect = new();

    public static TheoryData<string> Scripts() => [.. SchemaMigrator.Scripts(DatabaseProvider.SqlServer).Select(s => $"{s.Version:0000}_{s.Name}")];

    [Theory]
    [MemberData(nameof(Scripts))]
    public void SchemaScript_ParsesAsTSql(string script)
    {
        var sql = SchemaMigrator.Scripts(DatabaseProvider.SqlServer).Single(s => $"{s.Version:0000}_{s.Name}" == script).Sql;

        ShouldParse(sql);
    }

    public static TheoryData<string> Statements() => [.. DialectStatements().Keys];

    [Theory]
    [MemberData(nameof(Statements))]
    public void Statement_ParsesAsTSql(string name) => ShouldParse(DialectStatements()[name]);

    [Fact]
    public void EveryStatementPropertyOfTheDialect_IsAmongThoseParsed()
    {
        // A statement added to SqlDialect later must join the list above (or this test names it).
        var strings = typeof(SqlServerDialect).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(string))
            .Select(p => $"{nameof(SqlDialect)}.{p.Name}")
            .Concat(typeof(SqlDialect).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(string))
                .Select(f => $"{nameof(SqlDialect)}.{f.Name}"));

        strings.ShouldBeSubsetOf(DialectStatements().Keys);
    }

    [Fact]
    public void Claim_LocksWhatItTakes_SkipsWhatOthersHold_AndChecksTheOrdersHead()
    {
        var claim = Parse(Dialect.ClaimOutboxSql).Batches.Single().Statements.OfType<SelectStatement>().Single();
        var query = (QuerySpecification)claim.QueryExpression;
        var outbox = query.FromClause.TableReferences.OfType<NamedTableReference>().Single();

        outbox.TableHints.Select(h => h.HintKind).ShouldBe([TableHintKind.UpdLock, TableHintKind.ReadPast, TableHintKind.Rowlock], ignoreOrder: true);
        query.TopRowFilter.ShouldNotBeNull("the batch is bounded by @limit");
        query.OrderByClause.ShouldNotBeNull("rows leave in id order");
        Dialect.ClaimOutboxSql.ShouldContain("o.id = (SELECT MIN(e.id) FROM outbox_messages e WHERE e.order_id = o.order_id AND e.published_at IS NULL)");
        Dialect.ClaimHoldsTransaction.ShouldBeTrue("the locks must last until the rows are marked");
    }

    [Fact]
    public void MigrationLock_IsASessionApplicationLock_TakenAndReleased_AndARefusalFails()
    {
        Dialect.BeforeMigrationSql.ShouldContain("EXEC @granted = sp_getapplock");
        Dialect.BeforeMigrationSql.ShouldContain("IF @granted < 0 THROW");
        Dialect.BeforeMigrationSql.ShouldContain("@LockOwner = N'Session'");
        Dialect.AfterMigrationSql.ShouldContain("sp_releaseapplock");
    }

    [Fact]
    public void DateTimeParameters_AreDateTime2_NotTheOldDatetime() =>
        Dialect.DateTimeParameterType.ShouldBe(System.Data.DbType.DateTime2);

    [Fact]
    public void ABrokenStatement_FailsToParse()
    {
        // The parser really checks: the claim with PostgreSQL's LIMIT is not T-SQL.
        var errors = ParseErrors(new PostgresDialect().ClaimOutboxSql);

        errors.ShouldNotBeEmpty();
    }

    private static Dictionary<string, string> DialectStatements() => new()
    {
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.BeforeMigrationSql)}"] = Dialect.BeforeMigrationSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.AfterMigrationSql)}"] = Dialect.AfterMigrationSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.CreateSchemaVersionsSql)}"] = Dialect.CreateSchemaVersionsSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.ClaimOutboxSql)}"] = Dialect.ClaimOutboxSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.DeletePublishedSql)}"] = Dialect.DeletePublishedSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.MarkPublishedSql)}"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, Dialect.MarkPublishedSql, "1,2,3"),
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.MarkFailedSql)}"] = SqlDialect.MarkFailedSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.BacklogSql)}"] = SqlDialect.BacklogSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.CurrentSchemaVersionSql)}"] = SqlDialect.CurrentSchemaVersionSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.RecordSchemaVersionSql)}"] = SqlDialect.RecordSchemaVersionSql,
        [$"{nameof(SqlDialect)}.{nameof(SqlDialect.PingSql)}"] = SqlDialect.PingSql,
    };

    private static void ShouldParse(string sql)
    {
        var errors = ParseErrors(sql);
        errors.ShouldBeEmpty(string.Join(Environment.NewLine, errors.Select(e => $"line {e.Line}, column {e.Column}: {e.Message}")));
    }

    private static IList<ParseError> ParseErrors(string sql)
    {
        using var reader = new StringReader(sql);
        new TSql160Parser(initialQuotedIdentifiers: true).Parse(reader, out var errors);
        return errors;
    }

    private static TSqlScript Parse(string sql)
    {
        using var reader = new StringReader(sql);
        var fragment = new TSql160Parser(initialQuotedIdentifiers: true).Parse(reader, out var errors);
        errors.ShouldBeEmpty();
        return (TSqlScript)fragment;
    }
}
