using System.Net.Http.Json;
using OrderExport.Export;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>The dead-letter operations API, called with the operations key.</summary>
public sealed class OperatorClient(HttpClient http)
{
    public async Task<List<DeadLetterResponse>> ListAsync(Guid? orderId = null, DeadLetterStatus? status = null)
    {
        var query = new List<string>();
        if (orderId is { } id)
        {
            query.Add($"orderId={id}");
        }

        if (status is { } s)
        {
            query.Add($"status={s}");
        }

        query.Add("limit=1000");
        return (await http.GetFromJsonAsync<List<DeadLetterResponse>>(
            "/dead-letters?" + string.Join('&', query), OrdersClient.Json, TestContext.Current.CancellationToken))!;
    }

    public Task<HttpResponseMessage> ReplayAsync(long id) =>
        http.PostAsync($"/dead-letters/{id}/replay", null, TestContext.Current.CancellationToken);

    public Task<HttpResponseMessage> ReplayOrderAsync(Guid orderId) =>
        http.PostAsync($"/orders/{orderId}/dead-letters/replay", null, TestContext.Current.CancellationToken);

    public Task<HttpResponseMessage> DiscardAsync(long id) =>
        http.PostAsync($"/dead-letters/{id}/discard", null, TestContext.Current.CancellationToken);
}
