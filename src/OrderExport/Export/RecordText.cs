using System.Text;
using System.Text.Unicode;

namespace OrderExport.Export;

/// <summary>
/// Record keys and values as they are stored in text columns. Valid UTF-8 without NUL is kept as
/// text (readable in the database and the API); anything else, such as a Schema-Registry-framed
/// binary record, is stored as <c>base64:…</c>, because PostgreSQL text cannot hold a NUL byte and
/// lossy decoding would change the bytes a replay sends back.
/// </summary>
public static class RecordText
{
    private const string Base64Prefix = "base64:";

    public static string From(byte[]? bytes)
    {
        if (bytes is null || bytes.Length == 0)
        {
            return "";
        }

        return Utf8.IsValid(bytes) && !bytes.AsSpan().Contains((byte)0) && !bytes.AsSpan().StartsWith(Encoding.UTF8.GetBytes(Base64Prefix))
            ? Encoding.UTF8.GetString(bytes)
            : Base64Prefix + Convert.ToBase64String(bytes);
    }

    public static byte[] ToBytes(string text) =>
        text.StartsWith(Base64Prefix, StringComparison.Ordinal)
            ? Convert.FromBase64String(text[Base64Prefix.Length..])
            : Encoding.UTF8.GetBytes(text);
}
