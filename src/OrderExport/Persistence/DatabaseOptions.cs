using System.ComponentModel.DataAnnotations;

namespace OrderExport.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
    SqlServer,
}

/// <summary>
/// Section "Database":
/// <code>
/// "Database": {
///   "Provider": "Sqlite",                          // Sqlite (embedded default) | Postgres | SqlServer
///   "ConnectionString": "Data Source=orderexport.db"
/// }
/// </code>
/// Adding a provider means: its EF Core package, a case in
/// <see cref="PersistenceServiceCollectionExtensions"/>, its schema scripts under
/// Migrations/, and its <see cref="SqlDialect"/> (see docs/decisions/0001-database-providers.md).
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    [EnumDataType(typeof(DatabaseProvider))]
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    [Required(AllowEmptyStrings = false)]
    public string ConnectionString { get; set; } = "Data Source=orderexport.db";
}
