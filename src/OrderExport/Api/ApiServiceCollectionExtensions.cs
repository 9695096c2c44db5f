using System.Text.Json.Serialization;
using Scalar.AspNetCore;

namespace OrderExport.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>
    /// What every route shares: ProblemDetails with stable types, JSON (enums as names, duplicate
    /// properties refused), validation, the OpenAPI document, and the operators' key.
    /// </summary>
    public static IServiceCollection AddOrderExportApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // {"orderId": A, "orderId": B} is ambiguous: refuse it rather than let the last one win.
            options.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddValidation();
        services.AddOpenApi();

        services.AddOptions<OperationsOptions>()
            .Bind(configuration.GetSection(OperationsOptions.Section))
            .Validate(o => o.ApiKey.Length == 0 || o.ApiKey.Length >= OperationsOptions.MinimumKeyLength,
                $"Operations:ApiKey must be empty (operations closed) or at least {OperationsOptions.MinimumKeyLength} characters.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>Errors as ProblemDetails, the routes' body limits, and the OpenAPI document (with Scalar's reference in Development).</summary>
    public static WebApplication UseOrderExportApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestSizeLimitMiddleware>();

        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
        {
            // An interactive reference over /openapi/v1.json at /scalar/v1 (assets served by the service).
            app.MapScalarApiReference();
        }

        return app;
    }

    /// <summary>Bodies larger than <paramref name="maxBytes"/> are refused with 413 before they are read.</summary>
    public static TBuilder WithRequestBodyLimit<TBuilder>(this TBuilder builder, long maxBytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestBodyLimit(maxBytes));
}
