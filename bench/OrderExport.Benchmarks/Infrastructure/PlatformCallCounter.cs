using Microsoft.Extensions.DependencyInjection;
using OrderExport.Platform;

namespace OrderExport.Benchmarks.Infrastructure;

/// <summary>
/// Counts the platform calls the service's own client gets a 2xx for, through a handler added to
/// its named HttpClient (inside the resilience pipeline, so one count per successful attempt).
/// Reading the fake platform's recorder would copy its whole list on every look.
/// </summary>
internal sealed class PlatformCallCounter
{
    private long _succeeded;

    public event Action? Succeeded;

    public long Count => Interlocked.Read(ref _succeeded);

    public void AddTo(IServiceCollection services) =>
        services.AddHttpClient(PlatformServiceCollectionExtensions.HttpClientName)
            .AddHttpMessageHandler(() => new CountingHandler(this));

    private sealed class CountingHandler(PlatformCallCounter counter) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref counter._succeeded);
                counter.Succeeded?.Invoke();
            }

            return response;
        }
    }
}
