using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>An <see cref="InboxMessage"/> on the <c>inbox_messages</c> table (the schema itself: Persistence/Migrations).</summary>
internal sealed class InboxMessageMapping : IEntityTypeConfiguration<InboxMessage>
{
    public void Configure(EntityTypeBuilder<InboxMessage> inbox)
    {
        inbox.ToTable("inbox_messages");
        inbox.HasKey(m => m.EventId);
        inbox.Property(m => m.EventId).HasColumnName("event_id").ValueGeneratedNever();
        inbox.Property(m => m.OrderId).HasColumnName("order_id");
        inbox.Property(m => m.Outcome).HasColumnName("outcome").HasConversion<string>().HasMaxLength(16);
        inbox.Property(m => m.HandledAtUtc).HasColumnName("handled_at");
    }
}

/// <summary><c>db.InboxMessages</c>. Not usable inside a LINQ expression (write <c>db.Set&lt;InboxMessage&gt;()</c> there).</summary>
public static class InboxMessageDbSet
{
    extension(OrderExportDbContext db)
    {
        public DbSet<InboxMessage> InboxMessages => db.Set<InboxMessage>();
    }
}
