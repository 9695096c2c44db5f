using System.Net;
using System.Text.Json;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>Reads <c>/health/ready</c> as an orchestrator or operator would.</summary>
public static class Readiness
{
    public static async Task<JsonElement> ReadAsync(HttpClient http)
    {
        var response = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    /// <summary>Polls until the overall status is <paramref name="status"/>, then checks the HTTP status; returns the report.</summary>
    public static async Task<JsonElement> ShouldBecome(HttpClient http, string status, HttpStatusCode code, TimeSpan? timeout = null)
    {
        var (statusCode, body) = await Eventually.Until(async () =>
            {
                var response = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            },
            r => JsonDocument.Parse(r.Item2).RootElement.GetProperty("status").GetString() == status,
            timeout ?? TimeSpan.FromSeconds(30), $"readiness {status}");
        statusCode.ShouldBe(code, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The pipeline check's entry of a report.</summary>
    public static JsonElement Pipeline(this JsonElement report) => report.GetProperty("checks").GetProperty("pipeline");
}
