namespace OrderExport.Api;

/// <summary>
/// Section "Operations":
/// <code>
/// "Operations": { "ApiKey": "" }   // required in the X-Api-Key header of /dead-letters; empty: those routes answer 401; else at least 16 characters
/// </code>
/// </summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    public const string HeaderName = "X-Api-Key";

    public const int MinimumKeyLength = 16;

    public string ApiKey { get; set; } = "";
}
