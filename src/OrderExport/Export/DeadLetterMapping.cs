using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using OrderExport.Persistence;

namespace OrderExport.Export;

/// <summary>A <see cref="DeadLetter"/> on the <c>dead_letters</c> table (the schema itself: Persistence/Migrations).</summary>
internal sealed class DeadLetterMapping : IEntityTypeConfiguration<DeadLetter>
{
    public void Configure(EntityTypeBuilder<DeadLetter> dead)
    {
        var nulEscaped = new ValueConverter<string, string>(v => v.Replace("\0", "\\u0000", StringComparison.Ordinal), v => v);
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
    }
}

/// <summary><c>db.DeadLetters</c>. Not usable inside a LINQ expression (write <c>db.Set&lt;DeadLetter&gt;()</c> there).</summary>
public static class DeadLetterDbSet
{
    extension(OrderExportDbContext db)
    {
        public DbSet<DeadLetter> DeadLetters => db.Set<DeadLetter>();
    }
}
