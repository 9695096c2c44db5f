using System.Runtime.InteropServices;

namespace OrderExport.Messaging.Embedded;

/// <summary>
/// Which files of librdkafka.redist can serve a platform, in the order to try them: the order
/// Confluent.Kafka uses (the default build, then the glibc-only CentOS 8 build on x64; the
/// Alpine build first on musl).
/// </summary>
/// <param name="RuntimeFolder">The package's <c>runtimes/</c> folder for the platform, for example <c>linux-x64</c>.</param>
/// <param name="FileNames">The variants, most preferred first.</param>
internal sealed record LibrdkafkaVariants(string RuntimeFolder, IReadOnlyList<string> FileNames)
{
    public static LibrdkafkaVariants ForCurrentProcess() => For(
        OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux",
        RuntimeInformation.ProcessArchitecture,
        musl: RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal));

    public static LibrdkafkaVariants For(string os, Architecture architecture, bool musl)
    {
        var arch = architecture.ToString().ToLowerInvariant();
        return os switch
        {
            "win" => new($"win-{arch}", ["librdkafka.dll"]),
            "osx" => new($"osx-{arch}", ["librdkafka.dylib"]),
            _ when musl => new($"linux-{arch}", ["alpine-librdkafka.so", "librdkafka.so"]),
            _ when architecture == Architecture.X64 => new("linux-x64", ["librdkafka.so", "centos8-librdkafka.so"]),
            _ => new($"linux-{arch}", ["librdkafka.so"]),
        };
    }
}
