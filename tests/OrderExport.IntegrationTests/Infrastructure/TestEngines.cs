using System.Net.Sockets;
using DotNet.Testcontainers.Containers;
using Testcontainers.Kafka;
using Testcontainers.MsSql;
using Testcontainers.PostgreSql;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// The engines of this test run (<see cref="EngineSelection"/>), chosen once. Containers start on
/// first use and live until the run ends (Testcontainers' reaper removes them after the process).
/// </summary>
public static class TestEngines
{
    // The compose file's images, so a laptop with Docker tests what docker compose runs.
    public const string KafkaImage = "apache/kafka:4.1.1";
    public const string PostgresImage = "postgres:15";
    public const string SqlServerImage = "mcr.microsoft.com/mssql/server:2022-latest";

    private static readonly Lazy<EngineSelection> LazySelection = new(() => EngineSelection.Select(TestSettings.Get, DockerProbe.Problem()));
    private static readonly Lazy<Task<PostgreSqlContainer>> PostgresContainer = new(() => StartAsync(new PostgreSqlBuilder(PostgresImage).Build()));
    private static readonly Lazy<Task<MsSqlContainer>> SqlServerContainer = new(() => StartAsync(new MsSqlBuilder(SqlServerImage).Build()));
    private static readonly Lazy<Task<KafkaContainer>> KafkaContainer = new(() => StartAsync(new KafkaBuilder(KafkaImage).Build()));

    public static EngineSelection Selection => LazySelection.Value;

    /// <summary>The broker's bootstrap servers when it is not embedded; null for the embedded broker.</summary>
    public static string? KafkaBootstrapServers() => Selection.Kafka switch
    {
        EngineSource.External => TestSettings.Get(TestSettings.KafkaVariable),
        // Called by the run's broker fixture, once; a second caller gets the same container.
        EngineSource.Container => KafkaContainer.Value.GetAwaiter().GetResult().GetBootstrapAddress(),
        _ => null,
    };

    /// <summary>An admin connection string of the run's PostgreSQL; fails, saying what to do, when there is none.</summary>
    public static async Task<string> PostgresAdminAsync() => Selection.Postgres switch
    {
        EngineSource.External => TestSettings.Get(TestSettings.PostgresVariable)!,
        EngineSource.Container => (await PostgresContainer.Value).GetConnectionString(),
        _ => throw new InvalidOperationException(
            $"{TestSettings.PostgresVariable} is not set and no Docker engine answers ({Selection.DockerProblem}). The integration tests "
            + "need a real PostgreSQL: run them through eng/test.sh (it starts a private PostgreSQL 15), start Docker, or set "
            + $"{TestSettings.PostgresVariable} to an admin connection string such as "
            + "'Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres'."),
    };

    /// <summary>An admin connection string of the run's SQL Server; skips the calling test, saying why, when there is none.</summary>
    public static async Task<string> SqlServerAdminAsync()
    {
        switch (Selection.SqlServer)
        {
            case EngineSource.External:
                return TestSettings.Get(TestSettings.SqlServerVariable)!;
            case EngineSource.Container:
                return (await SqlServerContainer.Value).GetConnectionString();
            default:
                Assert.Skip(Selection.SqlServerSkipReason!);
                return "";
        }
    }

    private static async Task<T> StartAsync<T>(T container)
        where T : IContainer
    {
        await container.StartAsync();
        return container;
    }

    /// <summary>Whether a Docker engine answers <c>/_ping</c> at DOCKER_HOST or the default socket; null when it does.</summary>
    internal static class DockerProbe
    {
        private const string DefaultSocket = "/var/run/docker.sock";

        /// <summary>The first socket that exists: the system one, Docker Desktop's, rootless Docker's; else the system one.</summary>
        private static string DefaultSocketHere()
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            string[] candidates = [DefaultSocket, Path.Combine(home, ".docker/run/docker.sock"), .. runtime is null ? Array.Empty<string>() : [Path.Combine(runtime, "docker.sock")]];
            return candidates.FirstOrDefault(File.Exists) ?? DefaultSocket;
        }

        public static string? Problem()
        {
            var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
            var socket = host is null ? DefaultSocketHere() : host.StartsWith("unix://", StringComparison.Ordinal) ? host["unix://".Length..] : null;
            if (socket is not null && !File.Exists(socket))
            {
                return $"no Docker socket at {socket}";
            }

            var endpoint = socket ?? host!;
            try
            {
                using var handler = new SocketsHttpHandler();
                if (socket is not null)
                {
                    handler.ConnectCallback = async (_, cancellationToken) =>
                    {
                        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        await unix.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                        return new NetworkStream(unix, ownsSocket: true);
                    };
                }

                using var http = new HttpClient(handler)
                {
                    BaseAddress = new Uri(socket is not null ? "http://docker" : host!.Replace("tcp://", "http://", StringComparison.Ordinal)),
                    Timeout = TimeSpan.FromSeconds(3),
                };
                using var answer = http.GetAsync("/_ping").GetAwaiter().GetResult();
                return answer.IsSuccessStatusCode ? null : $"the Docker engine at {endpoint} answered {(int)answer.StatusCode}";
            }
            catch (Exception ex)
            {
                return $"no Docker engine answers at {endpoint}: {ex.Message}";
            }
        }
    }
}
