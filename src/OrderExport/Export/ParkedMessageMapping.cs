using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>A <see cref="ParkedMessage"/> on the <c>parked_messages</c> table (the schema itself: Persistence/Migrations).</summary>
internal sealed class ParkedMessageMapping : IEntityTypeConfiguration<ParkedMessage>
{
    public void Configure(EntityTypeBuilder<ParkedMessage> parked)
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
    }
}

/// <summary><c>db.ParkedMessages</c>. Not usable inside a LINQ expression (write <c>db.Set&lt;ParkedMessage&gt;()</c> there).</summary>
public static class ParkedMessageDbSet
{
    extension(OrderExportDbContext db)
    {
        public DbSet<ParkedMessage> ParkedMessages => db.Set<ParkedMessage>();
    }
}
