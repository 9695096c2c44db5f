using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using OrderExport.Export;
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

    public DbSet<InboxMessage> InboxMessages => Set<InboxMessage>();

    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();

    public DbSet<ParkedMessage> ParkedMessages => Set<ParkedMessage>();

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

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox_messages");
            inbox.HasKey(m => m.EventId);
            inbox.Property(m => m.EventId).HasColumnName("event_id").ValueGeneratedNever();
            inbox.Property(m => m.OrderId).HasColumnName("order_id");
            inbox.Property(m => m.Outcome).HasColumnName("outcome").HasConversion<string>().HasMaxLength(16);
            inbox.Property(m => m.HandledAtUtc).HasColumnName("handled_at");
        });

        var nulEscaped = new Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<string, string>(
            v => v.Replace("\0", "\\u0000", StringComparison.Ordinal), v => v);
        modelBuilder.Entity<DeadLetter>(dead =>
        {
            dead.ToTable("dead_letters");
            dead.HasKey(d => d.Id);
            dead.Property(d => d.Id).HasColumnName("id").ValueGeneratedOnAdd();
            dead.Property(d => d.EventId).HasColumnName("event_id");
            dead.Property(d => d.OrderId).HasColumnName("order_id");
            dead.Property(d => d.MessageKey).HasColumnName("message_key");
            dead.Property(d => d.Topic).HasColumnName("topic").HasMaxLength(249);
            dead.Property(d => d.Partition).HasColumnName("partition");
            dead.Property(d => d.Offset).HasColumnName("offset");
            // Error text quotes the record and the platform (an event type, a problem body), which may
            // hold U+0000: PostgreSQL text refuses it, and the partition would be stuck re-trying.
            dead.Property(d => d.ErrorType).HasColumnName("error_type").HasMaxLength(200).HasConversion(nulEscaped);
            dead.Property(d => d.ErrorMessage).HasColumnName("error_message").HasConversion(nulEscaped);
            dead.Property(d => d.Attempts).HasColumnName("attempts");
            dead.Property(d => d.FirstFailureAtUtc).HasColumnName("first_failure_at");
            dead.Property(d => d.LastFailureAtUtc).HasColumnName("last_failure_at");
            dead.Property(d => d.Payload).HasColumnName("payload");
            dead.Property(d => d.Status).HasColumnName("status").HasConversion<string>().HasMaxLength(16);
            dead.Property(d => d.CreatedAtUtc).HasColumnName("created_at");
            dead.Property(d => d.ResolvedAtUtc).HasColumnName("resolved_at");
            dead.Property(d => d.Version).HasColumnName("version").IsConcurrencyToken();
        });

        modelBuilder.Entity<ParkedMessage>(parked =>
        {
            parked.ToTable("parked_messages");
            parked.HasKey(p => p.Id);
            parked.Property(p => p.Id).HasColumnName("id").ValueGeneratedOnAdd();
            parked.Property(p => p.OrderId).HasColumnName("order_id");
            parked.Property(p => p.EventId).HasColumnName("event_id");
            parked.Property(p => p.Topic).HasColumnName("topic").HasMaxLength(249);
            parked.Property(p => p.Partition).HasColumnName("partition");
            parked.Property(p => p.Offset).HasColumnName("offset");
            parked.Property(p => p.Payload).HasColumnName("payload");
            parked.Property(p => p.ParkedAtUtc).HasColumnName("parked_at");
        });
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
