using System.Runtime.InteropServices;

namespace OrderExport.Messaging.Embedded;

/// <summary>
/// The native librdkafka of the librdkafka.redist package, found the way Confluent.Kafka finds
/// it: the default build first, then the package's other variants for this platform. On
/// linux-x64 the default <c>librdkafka.so</c> needs <c>libsasl2.so.3</c>, which Debian and
/// Ubuntu lack, so there the glibc-only <c>centos8-librdkafka.so</c> is the one that loads; on
/// musl the <c>alpine-</c> build; on linux-arm64 the single <c>librdkafka.so</c>.
/// The embedded broker binds its mock-cluster functions through this (a plain
/// <c>DllImport("librdkafka")</c> would try the default build only); see
/// docs/decisions/0002-native-librdkafka.md.
/// </summary>
public sealed class LibrdkafkaLibrary
{
    private static readonly Lazy<LibrdkafkaLibrary> DefaultLibrary = new(LoadDefault);

    private LibrdkafkaLibrary(IntPtr handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The library beside this application (its <c>runtimes/</c> folder or its own folder), loaded once.</summary>
    public static LibrdkafkaLibrary Default => DefaultLibrary.Value;

    public IntPtr Handle { get; }

    /// <summary>The file that loaded.</summary>
    public string Path { get; }

    public IntPtr Export(string symbol) => NativeLibrary.GetExport(Handle, symbol);

    /// <summary>
    /// Loads the first variant that loads from <paramref name="baseDirectory"/>'s
    /// <c>runtimes/{rid}/native</c> folder (framework-dependent and <c>dotnet run</c>/<c>dotnet test</c>
    /// output), else from <paramref name="baseDirectory"/> itself (a RID-specific publish).
    /// </summary>
    /// <exception cref="DllNotFoundException">No variant loaded; the message names the folders and each variant's failure.</exception>
    public static LibrdkafkaLibrary LoadFrom(string baseDirectory) =>
        LoadFrom(baseDirectory, LibrdkafkaVariants.ForCurrentProcess());

    internal static LibrdkafkaLibrary LoadFrom(string baseDirectory, LibrdkafkaVariants platform)
    {
        var folders = new[] { System.IO.Path.Combine(baseDirectory, "runtimes", platform.RuntimeFolder, "native"), baseDirectory };
        var failures = new List<string>();
        foreach (var folder in folders)
        {
            foreach (var variant in platform.FileNames)
            {
                var path = System.IO.Path.Combine(folder, variant);
                if (!File.Exists(path))
                {
                    continue;
                }

                try
                {
                    return new LibrdkafkaLibrary(NativeLibrary.Load(path), path);
                }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
                {
                    failures.Add($"{path}: {e.Message}");
                }
            }
        }

        throw new DllNotFoundException(
            $"librdkafka: no variant of the native library loaded. Searched {string.Join(" and ", folders)} " +
            $"for {string.Join(", ", platform.FileNames)} ({platform.RuntimeFolder}). " +
            (failures.Count == 0 ? "None of them is there: is the librdkafka.redist package restored?" : "Failures: " + string.Join("; ", failures)));
    }

    // Not handed to Confluent.Kafka's Library.Load(path): that binds dlopen from "libdl", which
    // glibc 2.34+ ships only as libdl.so.2 (Debian 12 has no libdl.so without libc6-dev).
    // Confluent.Kafka loads its own by the same order of variants from the same folder.
    private static LibrdkafkaLibrary LoadDefault() => LoadFrom(AppContext.BaseDirectory);
}
