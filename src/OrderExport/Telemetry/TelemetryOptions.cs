using System.ComponentModel.DataAnnotations;

namespace OrderExport.Telemetry;

/// <summary>
/// Section "Telemetry":
/// <code>
/// "Telemetry": {
///   "OtlpEndpoint": "",          // e.g. http://otel-lgtm:4317; empty: OTEL_EXPORTER_OTLP_ENDPOINT, else no export
///   "ServiceName": "orderexport"
/// }
/// </code>
/// Spans and metrics are produced either way (tests listen in-process); this only decides
/// whether they are exported over OTLP.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    public string OtlpEndpoint { get; set; } = "";

    [Required(AllowEmptyStrings = false)]
    [StringLength(100)]
    public string ServiceName { get; set; } = "orderexport";
}
