using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using OrderExport.Benchmarks.Infrastructure;
using OrderExport.Benchmarks.Reporting;
using OrderExport.Export;
using OrderExport.Messaging;
using OrderExport.Persistence;
using OrderExport.Platform;
using OrderExport.Platform.Fake;

namespace OrderExport.Benchmarks.Scenarios;

/// <summary>
/// The platform call on its own, no database or broker work in the window (relay and consumer
/// off), as many callers at once as the consumer may have exports in flight (partitions ×
/// Consumer:MaxInFlightPerPartition). Two rows side by side: the fake platform alone (a plain
/// HttpClient POSTing the same request over loopback), and the service's platform client (the
/// HttpClient factory's client, its resilience pipeline and per-attempt handler) against it.
/// </summary>
internal static class PlatformCalls
{
    public static async Task RunOnceAsync(BenchContext context, int run, DatabaseProvider provider, bool throughClient)
    {
        var options = context.Options;
        var callers = new KafkaOptions().Partitions * new ConsumerOptions().MaxInFlightPerPartition;
        var key = throughClient ? "platform.client" : "platform.fake";
        var measurement = context.Measure(key, "Baselines",
            throughClient
                ? "Platform call through the service's client (HttpClient factory, resilience pipeline, attempt handler) to the fake platform"
                : "Fake platform alone: POST /platform/orders from a plain HttpClient",
            "calls/s");
        measurement.Notes["concurrent callers"] = callers.ToString(CultureInfo.InvariantCulture);

        await using var database = await context.NewDatabaseAsync(provider);
        var settings = ServiceHost.Settings(database, options);
        settings["Outbox:RelayEnabled"] = "false";
        settings["Consumer:Enabled"] = "false";
        await using var host = await ServiceHost.StartAsync(settings);
        var address = new Uri(host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        var client = host.Services.GetRequiredService<IPlatformClient>();
        using var plain = new HttpClient(new SocketsHttpHandler()) { BaseAddress = address };
        var recorder = host.Services.GetRequiredService<FakePlatformRecorder>();

        Func<Task> call = throughClient
            ? async () =>
            {
                var result = await client.ExportAsync(NewRequest(), CancellationToken.None);
                if (!result.IsExported)
                {
                    throw new InvalidOperationException($"The platform did not accept: {result.Reason}");
                }
            }
            : async () =>
            {
                var request = NewRequest();
                using var message = new HttpRequestMessage(HttpMethod.Post, "platform/orders")
                {
                    Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, JsonSerializerOptions.Web))
                    {
                        Headers = { ContentType = new MediaTypeHeaderValue("application/json", "utf-8") },
                    },
                };
                message.Headers.Add("Idempotency-Key", request.EventId.ToString());
                using var response = await plain.SendAsync(message);
                response.EnsureSuccessStatusCode();
            };

        ResourceMeter? meter = null;
        ResourceUsage? usage = null;
        var result = await LoadGenerators.ClosedLoopAsync(callers, options.WarmUp, options.Window, call,
            onWindowStart: () =>
            {
                meter = ResourceMeter.Start(options.PostgresData);
                return Task.CompletedTask;
            },
            onWindowEnd: async () => usage = await meter!.StopAsync());
        await meter!.DisposeAsync();

        var metrics = new Dictionary<string, double>
        {
            [Metrics.Rate] = result.Rate,
            [Metrics.MeanCallMs] = result.MeanMs,
        };
        measurement.AddResources(metrics, usage!, result.DurationsMs.Count);
        measurement.Runs.Add(metrics);
        context.Log($"{key} run {run + 1}: {result.Rate:N0} calls/s, {result.MeanMs:0.00} ms/call, failures {result.Failures}, "
            + $"recorded {recorder.Received.Count:N0}; {usage!.TopThreads()}");
    }

    private static PlatformExportRequest NewRequest() =>
        new(Guid.NewGuid(), Guid.NewGuid(), 1, "customer-bench", 42.50m, "EUR");
}
