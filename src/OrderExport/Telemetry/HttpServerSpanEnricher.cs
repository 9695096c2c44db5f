using System.Diagnostics;

namespace OrderExport.Telemetry;

/// <summary>
/// ASP.NET Core starts a span per request but, without the OpenTelemetry instrumentation package
/// (not in our NuGet mirror), leaves it unnamed and untagged. This names it "{method} {route}"
/// and adds the HTTP semantic-convention attributes a trace viewer needs.
/// </summary>
internal sealed class HttpServerSpanEnricher(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var activity = Activity.Current;
        if (activity is null || activity.Source.Name != "Microsoft.AspNetCore")
        {
            await next(context);
            return;
        }

        activity.SetTag("http.request.method", context.Request.Method);
        activity.SetTag("url.path", context.Request.Path.Value);
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            activity.DisplayName = route is null ? context.Request.Method : $"{context.Request.Method} {route}";
            activity.SetTag("http.route", route);
            activity.SetTag("http.response.status_code", context.Response.StatusCode);
            if (context.Response.StatusCode >= 500)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
