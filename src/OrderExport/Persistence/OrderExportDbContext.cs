using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using OrderExport.Orders;
using OrderExport.Outbox;

namespace OrderExport.Persistence;

/// <summary>
/// The service's one DbContext. The schema itself is owned by the versioned SQL scripts in
/// Migrations/ (applied by <see cref="SchemaMigrator"/>); this model only maps onto it.
/// </summary>
public sealed class OrderExportDbContext(DbContextOptions<OrderExportDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC. SQLite hands DateTime back as Unspecified; say what it is.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.HasKey(o => o.Id);
            order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            order.Property(o => o.CustomerId).HasColumnName("customer_id").HasMaxLength(Order.CustomerIdMaxLength);
            order.Property(o => o.Amount).HasColumnName("amount").HasPrecision(18, 2);
            order.Property(o => o.Currency).HasColumnName("currency").HasMaxLength(3);
            order.Property(o => o.Status).HasColumnName("status").HasConversion<string>().HasMaxLength(16);
            order.Property(o => o.ExportStatus).HasColumnName("export_status").HasConversion<string>().HasMaxLength(16);
            order.Property(o => o.ExportSequence).HasColumnName("export_sequence");
            order.Property(o => o.CreatedAtUtc).HasColumnName("created_at");
            order.Property(o => o.ConfirmedAtUtc).HasColumnName("confirmed_at");
            order.Property(o => o.Version).HasColumnName("version").IsConcurrencyToken();
            order.Ignore(o => o.DomainEvents);
        });

        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable("outbox_messages");
            outbox.HasKey(m => m.Id);
            outbox.Property(m => m.Id).HasColumnName("id").ValueGeneratedOnAdd();
            outbox.Property(m => m.EventId).HasColumnName("event_id");
            outbox.HasIndex(m => m.EventId).IsUnique();
            outbox.Property(m => m.OrderId).HasColumnName("order_id");
            outbox.Property(m => m.EventType).HasColumnName("event_type").HasMaxLength(128);
            outbox.Property(m => m.SchemaVersion).HasColumnName("schema_version");
            outbox.Property(m => m.OccurredAtUtc).HasColumnName("occurred_at");
            outbox.Property(m => m.Payload).HasColumnName("payload");
            outbox.Property(m => m.TraceParent).HasColumnName("trace_parent").HasMaxLength(64);
            outbox.Property(m => m.TraceState).HasColumnName("trace_state").HasMaxLength(512);
            outbox.Property(m => m.CreatedAtUtc).HasColumnName("created_at");
            outbox.Property(m => m.Attempts).HasColumnName("attempts");
            outbox.Property(m => m.LastError).HasColumnName("last_error");
            outbox.Property(m => m.NextAttemptAtUtc).HasColumnName("next_attempt_at");
            outbox.Property(m => m.PublishedAtUtc).HasColumnName("published_at");
        });
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
