using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OrderExport.Persistence;

namespace OrderExport.Orders;

/// <summary>An <see cref="Order"/> on the <c>orders</c> table (the schema itself: Persistence/Migrations).</summary>
internal sealed class OrderMapping : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> order)
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
    }
}

/// <summary><c>db.Orders</c>. Not usable inside a LINQ expression (write <c>db.Set&lt;Order&gt;()</c> there).</summary>
public static class OrderDbSet
{
    extension(OrderExportDbContext db)
    {
        public DbSet<Order> Orders => db.Set<Order>();
    }
}
