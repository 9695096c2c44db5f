using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace OrderExport.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    public static IServiceCollection AddOrderExportPersistence(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => Enum.IsDefined(o.Provider), $"{DatabaseOptions.Section}:Provider must be Sqlite, Postgres or SqlServer.")
            .ValidateOnStart();

        services.AddSingleton(sp => SqlDialect.For(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider));
        // One per scope, like the DbContext whose options take it from that scope: it publishes the
        // context's domain events through that scope's Mediator (registered in AddOrderExport).
        services.AddScoped<DomainEventsInterceptor>();

        services.AddDbContext<OrderExportDbContext>((sp, options) =>
        {
            var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            _ = database.Provider switch
            {
                DatabaseProvider.Postgres => options.UseNpgsql(PostgresStatements.WithAutoPrepare(database.ConnectionString)),
                DatabaseProvider.Sqlite => options.UseSqlite(database.ConnectionString).AddInterceptors(new SqliteBusyTimeoutInterceptor()),
                // No EnableRetryOnFailure: the relay, the consumer and the API retry whole units of
                // work themselves, and an execution strategy refuses the explicit transactions they use.
                DatabaseProvider.SqlServer => options.UseSqlServer(database.ConnectionString),
                _ => throw new InvalidOperationException($"Unsupported {DatabaseOptions.Section}:Provider '{database.Provider}'."),
            };
            options.AddInterceptors(sp.GetRequiredService<DomainEventsInterceptor>());
            // Then those the features register (the outbox wakes its relay after a save).
            options.AddInterceptors(sp.GetServices<ISaveChangesInterceptor>());
        });

        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<DatabaseSchema>();
        services.AddHostedService<SchemaMigrationHostedService>();
        return services;
    }
}
