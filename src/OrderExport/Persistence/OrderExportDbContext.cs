using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace OrderExport.Persistence;

/// <summary>
/// The service's one DbContext. The schema itself is owned by the versioned SQL scripts in
/// Migrations/ (applied by <see cref="SchemaMigrator"/>); this model only maps onto it.
/// </summary>
public sealed class OrderExportDbContext(DbContextOptions<OrderExportDbContext> options) : DbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC. SQLite hands DateTime back as Unspecified; say what it is.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    /// <summary>
    /// Each entity's mapping lives beside the entity, as an <see cref="IEntityTypeConfiguration{TEntity}"/>
    /// (Orders/OrderMapping.cs, Outbox/OutboxMessageMapping.cs, Export/*Mapping.cs), with the
    /// <c>db.Orders</c>-style accessor its feature uses: this context names no feature's types, so
    /// the features depend on Persistence and never the other way round.
    /// </summary>
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(OrderExportDbContext).Assembly);

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
