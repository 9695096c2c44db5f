using System.Runtime.InteropServices;
using OrderExport.Messaging.Embedded;

namespace OrderExport.UnitTests.Messaging;

/// <summary>Which librdkafka.redist files serve which platform, and in which order (as Confluent.Kafka tries them).</summary>
public sealed class LibrdkafkaVariantsTests
{
    [Fact]
    public void LinuxX64_TriesTheDefaultBuild_ThenTheGlibcOnlyCentos8Build()
    {
        var variants = LibrdkafkaVariants.For("linux", Architecture.X64, musl: false);

        variants.RuntimeFolder.ShouldBe("linux-x64");
        variants.FileNames.ShouldBe(["librdkafka.so", "centos8-librdkafka.so"]);
    }

    [Fact]
    public void LinuxArm64_HasTheSingleDefaultBuild()
    {
        var variants = LibrdkafkaVariants.For("linux", Architecture.Arm64, musl: false);

        variants.RuntimeFolder.ShouldBe("linux-arm64");
        variants.FileNames.ShouldBe(["librdkafka.so"]);
    }

    [Fact]
    public void Musl_TriesTheAlpineBuildFirst()
    {
        LibrdkafkaVariants.For("linux", Architecture.X64, musl: true).FileNames[0].ShouldBe("alpine-librdkafka.so");
    }

    [Fact]
    public void LoadFrom_WhenNothingLoads_NamesTheFoldersAndTheVariantsItTried()
    {
        var folder = Directory.CreateTempSubdirectory("librdkafka-missing-").FullName;
        try
        {
            var native = Path.Combine(folder, "runtimes", "linux-x64", "native");
            Directory.CreateDirectory(native);
            File.WriteAllText(Path.Combine(native, "librdkafka.so"), "not a shared object");

            var failure = Should.Throw<DllNotFoundException>(
                () => LibrdkafkaLibrary.LoadFrom(folder, LibrdkafkaVariants.For("linux", Architecture.X64, musl: false)));

            failure.Message.ShouldContain(native);
            failure.Message.ShouldContain("librdkafka.so, centos8-librdkafka.so");
            failure.Message.ShouldContain(Path.Combine(native, "librdkafka.so") + ":");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
