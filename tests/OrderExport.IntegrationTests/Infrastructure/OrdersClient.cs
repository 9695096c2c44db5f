using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderExport.Orders;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>Calls the orders API the way a user would, and fails with the body when an answer is not a success.</summary>
public sealed class OrdersClient(HttpClient http)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<OrderResponse> CreateAsync(string customerId = "customer-1", decimal amount = 99.90m, string currency = "EUR")
    {
        var response = await http.PostAsJsonAsync("/orders", new { customerId, amount, currency }, Json, TestContext.Current.CancellationToken);
        return await ReadAsync(response);
    }

    public async Task<OrderResponse> ConfirmAsync(Guid orderId)
    {
        var response = await http.PostAsJsonAsync("/orders/confirm", new { orderId }, Json, TestContext.Current.CancellationToken);
        return await ReadAsync(response);
    }

    public async Task<OrderResponse> RequestExportAsync(Guid orderId)
    {
        var response = await http.PostAsync($"/orders/{orderId}/exports", null, TestContext.Current.CancellationToken);
        return await ReadAsync(response);
    }

    public async Task<OrderResponse> GetAsync(Guid orderId) =>
        await ReadAsync(await http.GetAsync($"/orders/{orderId}", TestContext.Current.CancellationToken));

    public async Task<OrderResponse> CreateConfirmedAsync(string customerId = "customer-1")
    {
        var order = await CreateAsync(customerId);
        return await ConfirmAsync(order.Id);
    }

    private static async Task<OrderResponse> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        response.IsSuccessStatusCode.ShouldBeTrue($"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<OrderResponse>(body, Json)!;
    }
}
