using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OrderExport.Persistence;

namespace OrderExport.Outbox;

/// <summary>An <see cref="OutboxMessage"/> on the <c>outbox_messages</c> table (the schema itself: Persistence/Migrations).</summary>
internal sealed class OutboxMessageMapping : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> outbox)
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
    }
}

/// <summary><c>db.OutboxMessages</c>. Not usable inside a LINQ expression (write <c>db.Set&lt;OutboxMessage&gt;()</c> there).</summary>
public static class OutboxMessageDbSet
{
    extension(OrderExportDbContext db)
    {
        public DbSet<OutboxMessage> OutboxMessages => db.Set<OutboxMessage>();
    }
}
