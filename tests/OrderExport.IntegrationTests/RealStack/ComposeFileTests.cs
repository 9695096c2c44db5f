using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using OrderExport.Messaging;
using OrderExport.Persistence;

namespace OrderExport.IntegrationTests.RealStack;

/// <summary>
/// docker-compose.yml cannot be started where CI runs (no Docker engine), so it is checked offline:
/// Docker Compose v1 validates it (<c>docker-compose config</c>), and its normalized output is
/// compared with the service's own Kafka settings, .env, kafka-ui/config.yml and docs/real-stack.md.
/// Compose v1 ignores profiles when validating, so the profile rules are checked here.
/// </summary>
public sealed class ComposeFileTests
{
    private const string ComposeFile = "docker-compose.yml";
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly Dictionary<string, string> DotEnv = ReadDotEnv();

    // `docker-compose config` (interpolated, anchors and merges resolved), as JSON. Loaded once.
    private static readonly Lazy<Task<JsonElement>> Normalized = new(() => LoadNormalizedAsync(CancellationToken.None));

    private static readonly string[] DefaultServices = ["kafka", "kafka-init", "postgres", "orderexport", "kafka-ui", "otel-lgtm"];
    private static readonly string[] ClusterServices = ["kafka-1", "kafka-2", "kafka-3", "kafka-cluster-init"];
    private static readonly string[] ClusterBrokers = ["kafka-1", "kafka-2", "kafka-3"];
    private static readonly string[] SqlServerServices = ["sqlserver", "sqlserver-init", "kafka-init-sqlserver", "orderexport-sqlserver"];

    [Fact]
    public async Task Config_IsValidForDockerCompose()
    {
        var result = await RunComposeAsync(["config", "--quiet"], TestContext.Current.CancellationToken);

        result.ExitCode.ShouldBe(0, $"docker-compose config rejected {ComposeFile}:\n{result.Stderr}");
    }

    [Fact]
    public async Task Config_DeclaresTheClusterAndSqlServerProfiles_AndAcceptsEach()
    {
        var ct = TestContext.Current.CancellationToken;

        var profiles = await RunComposeAsync(["config", "--profiles"], ct);
        var withCluster = await RunComposeAsync(["--profile", "cluster", "config", "--quiet"], ct);
        var withSqlServer = await RunComposeAsync(["--profile", "sqlserver", "config", "--quiet"], ct);

        profiles.ExitCode.ShouldBe(0, profiles.Stderr);
        profiles.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ShouldBe(["cluster", "sqlserver"], ignoreOrder: true);
        withCluster.ExitCode.ShouldBe(0, withCluster.Stderr);
        withSqlServer.ExitCode.ShouldBe(0, withSqlServer.Stderr);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("cluster")]
    [InlineData("sqlserver")]
    public async Task Profile_StartsItsServices_AndEachDependsOnlyOnServicesItStarts(string? profile)
    {
        var services = await ServicesAsync();

        // What `docker compose [--profile cluster] up` starts: services without a profile, plus the named one's.
        var active = services.EnumerateObject()
            .Where(s => Profiles(s.Value) is var p && (p.Length == 0 || p.Contains(profile)))
            .ToDictionary(s => s.Name, s => s.Value);

        string[] expected = profile switch
        {
            null => DefaultServices,
            "cluster" => [.. DefaultServices, .. ClusterServices],
            _ => [.. DefaultServices, .. SqlServerServices],
        };
        active.Keys.Order().ShouldBe(expected.Order());
        foreach (var (name, service) in active)
        {
            foreach (var (target, condition) in DependsOn(service))
            {
                // Compose v1 accepts this; v2 refuses the whole file when the profile is off.
                active.ShouldContainKey(target, $"{name} depends on {target}, which this profile does not start");
                if (condition == "service_healthy")
                {
                    active[target].TryGetProperty("healthcheck", out _).ShouldBeTrue($"{name} waits for {target} to be healthy, but it has no healthcheck");
                }
                else if (condition == "service_completed_successfully")
                {
                    active[target].GetProperty("restart").GetString().ShouldBe("no", $"{name} waits for {target} to exit, so it must not restart");
                }
            }
        }
    }

    [Fact]
    public async Task Services_StartInWorkingOrder()
    {
        var services = await ServicesAsync();

        DependsOn(services.GetProperty("kafka-init")).ShouldBe([new("kafka", "service_healthy")], ignoreOrder: true);
        DependsOn(services.GetProperty("orderexport")).ShouldBe(
            [new("postgres", "service_healthy"), new("kafka-init", "service_completed_successfully"), new("otel-lgtm", "service_started")], ignoreOrder: true);
        DependsOn(services.GetProperty("kafka-ui"))["kafka-init"].ShouldBe("service_completed_successfully");
        DependsOn(services.GetProperty("kafka-cluster-init")).ShouldBe(
            ClusterBrokers.Select(b => new KeyValuePair<string, string>(b, "service_healthy")), ignoreOrder: true);
        string.Join(" ", services.GetProperty("postgres").GetProperty("healthcheck").GetProperty("test").EnumerateArray()).ShouldContain("pg_isready");
        string.Join(" ", services.GetProperty("orderexport").GetProperty("healthcheck").GetProperty("test").EnumerateArray()).ShouldContain("/health/live");
    }

    [Theory]
    [InlineData("kafka-init")]
    [InlineData("kafka-cluster-init")]
    public async Task TopicInit_CreatesTheServicesTopics_WithItsPartitionCount(string serviceName)
    {
        var services = await ServicesAsync();
        var init = services.GetProperty(serviceName);
        var env = EnvironmentOf(init);

        ShouldAgreeWithTheService(env["TOPIC"], o => o.Topic, "Topic");
        ShouldAgreeWithTheService(env["DEAD_LETTER_TOPIC"], o => o.DeadLetterTopic, "DeadLetterTopic");
        ShouldAgreeWithTheService(env["PARTITIONS"], o => o.Partitions.ToString(), "Partitions");
        init.GetProperty("image").GetString().ShouldBe(services.GetProperty("kafka").GetProperty("image").GetString());
        var script = string.Join(" ", init.GetProperty("command").EnumerateArray());
        script.ShouldContain("kafka-topics.sh");
        script.ShouldContain("--if-not-exists");
    }

    [Fact]
    public async Task Service_RunsOnPostgresAndTheComposeKafka_WithItsOwnTopicsAndGroup()
    {
        var services = await ServicesAsync();
        var env = EnvironmentOf(services.GetProperty("orderexport"));

        Enum.Parse<DatabaseProvider>(env["Database__Provider"]).ShouldBe(DatabaseProvider.Postgres);
        env["Database__ConnectionString"].ShouldBe(
            $"Host=postgres;Port=5432;Database={DotEnv["POSTGRES_DB"]};Username={DotEnv["POSTGRES_USER"]};Password={DotEnv["POSTGRES_PASSWORD"]}");
        env["Kafka__BootstrapServers"].ShouldBe(InternalListener(services, "kafka"));
        env["Kafka__BootstrapServers"].ShouldBe(EnvironmentOf(services.GetProperty("kafka-init"))["BOOTSTRAP_SERVERS"]);
        ShouldAgreeWithTheService(env["Kafka__Topic"], o => o.Topic, "Topic");
        ShouldAgreeWithTheService(env["Kafka__DeadLetterTopic"], o => o.DeadLetterTopic, "DeadLetterTopic");
        ShouldAgreeWithTheService(env["Kafka__Partitions"], o => o.Partitions.ToString(), "Partitions");
        ShouldAgreeWithTheService(env["Kafka__ConsumerGroup"], o => o.ConsumerGroup, "ConsumerGroup");
        File.Exists(Path.Combine(RepoRoot, services.GetProperty("orderexport").GetProperty("build").GetProperty("dockerfile").GetString()!)).ShouldBeTrue();
    }

    [Fact]
    public async Task SqlServerProfile_RunsTheServiceOnSqlServer_BesideThePostgresOne_WithTopicsAndGroupOfItsOwn()
    {
        var services = await ServicesAsync();
        var env = EnvironmentOf(services.GetProperty("orderexport-sqlserver"));
        var postgresInstance = EnvironmentOf(services.GetProperty("orderexport"));
        var topics = EnvironmentOf(services.GetProperty("kafka-init-sqlserver"));

        Enum.Parse<DatabaseProvider>(env["Database__Provider"]).ShouldBe(DatabaseProvider.SqlServer);
        var connection = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(env["Database__ConnectionString"]);
        connection.DataSource.ShouldBe("sqlserver,1433");
        connection.InitialCatalog.ShouldBe(DotEnv["SQLSERVER_DB"]);
        connection.Password.ShouldBe(DotEnv["MSSQL_SA_PASSWORD"]);
        EnvironmentOf(services.GetProperty("sqlserver"))["MSSQL_SA_PASSWORD"].ShouldBe(DotEnv["MSSQL_SA_PASSWORD"]);
        EnvironmentOf(services.GetProperty("sqlserver-init"))["SQLSERVER_DB"].ShouldBe(DotEnv["SQLSERVER_DB"]);

        // Two pipelines on one broker must not share events: topics and group of its own, created by its own init.
        env["Kafka__Topic"].ShouldNotBe(postgresInstance["Kafka__Topic"]);
        env["Kafka__DeadLetterTopic"].ShouldNotBe(postgresInstance["Kafka__DeadLetterTopic"]);
        env["Kafka__ConsumerGroup"].ShouldNotBe(postgresInstance["Kafka__ConsumerGroup"]);
        topics["TOPIC"].ShouldBe(env["Kafka__Topic"]);
        topics["DEAD_LETTER_TOPIC"].ShouldBe(env["Kafka__DeadLetterTopic"]);
        topics["PARTITIONS"].ShouldBe(env["Kafka__Partitions"]);
        env["Kafka__BootstrapServers"].ShouldBe(topics["BOOTSTRAP_SERVERS"]);

        DependsOn(services.GetProperty("orderexport-sqlserver")).ShouldBe(
            [new("sqlserver-init", "service_completed_successfully"), new("kafka-init-sqlserver", "service_completed_successfully"), new("otel-lgtm", "service_started")],
            ignoreOrder: true);
        DependsOn(services.GetProperty("sqlserver-init")).ShouldBe([new("sqlserver", "service_healthy")]);
        string.Join(" ", services.GetProperty("sqlserver").GetProperty("healthcheck").GetProperty("test").EnumerateArray()).ShouldContain("sqlcmd");
        services.GetProperty("sqlserver").GetProperty("image").GetString()!.ShouldStartWith("mcr.microsoft.com/mssql/server:");
    }

    [Fact]
    public async Task Cluster_KeepsThreeCopies_AndAcceptsWritesWithOneBrokerDown()
    {
        var services = await ServicesAsync();
        var brokers = ClusterBrokers.Select(b => EnvironmentOf(services.GetProperty(b))).ToList();
        var single = EnvironmentOf(services.GetProperty("kafka"));

        brokers.Select(b => b["KAFKA_NODE_ID"]).ShouldBe(["1", "2", "3"]);
        brokers.Select(b => b["CLUSTER_ID"]).Distinct().ShouldHaveSingleItem().ShouldNotBe(single["CLUSTER_ID"]);
        foreach (var broker in brokers)
        {
            broker["KAFKA_CONTROLLER_QUORUM_VOTERS"].ShouldBe("1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093");
            broker["KAFKA_DEFAULT_REPLICATION_FACTOR"].ShouldBe("3");
            broker["KAFKA_MIN_INSYNC_REPLICAS"].ShouldBe("2");
            broker["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"].ShouldBe("3");
            broker["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"].ShouldBe("2");
        }

        // One broker can only hold one copy; anything above 1 would make its topics uncreatable.
        single["KAFKA_DEFAULT_REPLICATION_FACTOR"].ShouldBe("1");
        single["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"].ShouldBe("1");
        ClusterBrokers.Select(b => InternalListener(services, b)).ShouldBe(EnvironmentOf(services.GetProperty("kafka-cluster-init"))["BOOTSTRAP_SERVERS"].Split(','));
    }

    [Fact]
    public async Task KafkaUi_IsPrewiredToTheComposeBrokers()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = await ServicesAsync();
        var ui = services.GetProperty("kafka-ui");
        var config = await YamlToJsonAsync(await File.ReadAllTextAsync(Path.Combine(RepoRoot, "kafka-ui", "config.yml"), ct), ct);

        var clusters = config.GetProperty("kafka").GetProperty("clusters").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("bootstrapServers").GetString()!);
        clusters["orderexport"].ShouldBe(InternalListener(services, "kafka"));
        clusters["orderexport-cluster"].ShouldBe(string.Join(",", ClusterBrokers.Select(b => InternalListener(services, b))));
        // No login: the UI may look, never write (a record produced by hand reaches the consumer).
        config.GetProperty("kafka").GetProperty("clusters").EnumerateArray()
            .Select(c => c.TryGetProperty("readOnly", out var readOnly) && readOnly.GetBoolean()).ShouldAllBe(readOnly => readOnly);
        var location = EnvironmentOf(ui)["SPRING_CONFIG_ADDITIONAL-LOCATION"];
        // Compose prints the host side as an absolute path; only its end is ours to check.
        ui.GetProperty("volumes").EnumerateArray().Select(v => v.GetString()!)
            .ShouldContain(v => v.EndsWith($"/kafka-ui/config.yml:{location}:ro", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("kafka", "KAFKA_PORT")]
    [InlineData("kafka-1", "KAFKA_1_PORT")]
    [InlineData("kafka-2", "KAFKA_2_PORT")]
    [InlineData("kafka-3", "KAFKA_3_PORT")]
    public async Task Broker_AdvertisesTheHostPortItPublishes(string broker, string portVariable)
    {
        var services = await ServicesAsync();

        Ports(services.GetProperty(broker)).ShouldBe([$"127.0.0.1:{DotEnv[portVariable]}:9094/tcp"]);
        EnvironmentOf(services.GetProperty(broker))["KAFKA_ADVERTISED_LISTENERS"].Split(',').ShouldContain($"EXTERNAL://127.0.0.1:{DotEnv[portVariable]}");
    }

    [Fact]
    public async Task HostPorts_AreBoundToLoopbackOnly()
    {
        var services = await ServicesAsync();

        // The credentials in .env are public: nothing may listen beyond this machine.
        var ports = services.EnumerateObject().SelectMany(s => Ports(s.Value).Select(p => $"{s.Name} {p}")).ToList();
        ports.ShouldNotBeEmpty();
        ports.ShouldAllBe(p => p.Contains(" 127.0.0.1:"));
    }

    [Fact]
    public void DotEnv_DefinesEveryVariableTheComposeFileUses_AndNoOthers()
    {
        var compose = string.Join('\n', File.ReadAllLines(Path.Combine(RepoRoot, ComposeFile)).Where(l => !l.TrimStart().StartsWith('#')));

        // `$${...}` is a literal dollar for a container's shell, not an interpolation.
        var used = Regex.Matches(compose, @"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)").Select(m => m.Groups[1].Value).ToHashSet();

        used.ShouldNotBeEmpty();
        used.Except(DotEnv.Keys).ShouldBeEmpty("used in docker-compose.yml but missing from .env");
        DotEnv.Keys.Where(k => !k.StartsWith("COMPOSE_", StringComparison.Ordinal)).Except(used).ShouldBeEmpty("set in .env but used nowhere");
    }

    [Fact]
    public void Docs_UseTheStacksNamesAndPorts()
    {
        var docs = File.ReadAllText(Path.Combine(RepoRoot, "docs", "real-stack.md"));
        var kafka = new KafkaOptions();

        docs.ShouldContain($"ORDEREXPORT_TEST_KAFKA=localhost:{DotEnv["KAFKA_PORT"]} eng/test.sh");
        docs.ShouldContain($"http://localhost:{DotEnv["ORDEREXPORT_HTTP_PORT"]}/orders");
        docs.ShouldContain($"http://localhost:{DotEnv["KAFKA_UI_PORT"]}");
        docs.ShouldContain($"--group {kafka.ConsumerGroup}");
        docs.ShouldContain($"--topic {kafka.DeadLetterTopic}");
        docs.ShouldContain("docker compose --profile cluster up -d");
    }

    private static async Task<JsonElement> ServicesAsync() =>
        (await Normalized.Value.WaitAsync(TestContext.Current.CancellationToken)).GetProperty("services");

    /// <summary>A compose value must equal both the KafkaOptions default and what appsettings.json makes of it.</summary>
    private static void ShouldAgreeWithTheService(string composeValue, Func<KafkaOptions, string> setting, string name)
    {
        var configured = new KafkaOptions();
        new ConfigurationBuilder().AddJsonFile(Path.Combine(RepoRoot, "src", "OrderExport", "appsettings.json")).Build()
            .GetSection(KafkaOptions.Section).Bind(configured);

        composeValue.ShouldBe(setting(new KafkaOptions()), $"docker-compose.yml disagrees with the default of KafkaOptions.{name}");
        composeValue.ShouldBe(setting(configured), $"docker-compose.yml disagrees with Kafka:{name} in appsettings.json");
    }

    private static string[] Profiles(JsonElement service) =>
        service.TryGetProperty("profiles", out var p) ? [.. p.EnumerateArray().Select(e => e.GetString()!)] : [];

    private static Dictionary<string, string> DependsOn(JsonElement service) =>
        service.TryGetProperty("depends_on", out var d)
            ? d.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetProperty("condition").GetString()!)
            : [];

    private static Dictionary<string, string> EnvironmentOf(JsonElement service) =>
        service.GetProperty("environment").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString() ?? "");

    private static string[] Ports(JsonElement service) =>
        service.TryGetProperty("ports", out var p) ? [.. p.EnumerateArray().Select(e => e.GetString()!)] : [];

    /// <summary>host:port of a broker's INTERNAL listener: what containers must use to reach it.</summary>
    private static string InternalListener(JsonElement services, string broker) =>
        EnvironmentOf(services.GetProperty(broker))["KAFKA_ADVERTISED_LISTENERS"].Split(',')
            .Single(l => l.StartsWith("INTERNAL://", StringComparison.Ordinal))["INTERNAL://".Length..];

    private static async Task<JsonElement> LoadNormalizedAsync(CancellationToken cancellationToken)
    {
        var result = await RunComposeAsync(["config"], cancellationToken);
        result.ExitCode.ShouldBe(0, $"docker-compose config rejected {ComposeFile}:\n{result.Stderr}");
        return await YamlToJsonAsync(result.Stdout, cancellationToken);
    }

    /// <summary>
    /// No YAML parser is referenced by this project, and the inputs are small: PyYAML, which Debian's
    /// docker-compose itself runs on (package python3-yaml), turns them into JSON.
    /// </summary>
    private static async Task<JsonElement> YamlToJsonAsync(string yaml, CancellationToken cancellationToken)
    {
        var result = await RunAsync(
            "python3", ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], yaml, cancellationToken);
        result.ExitCode.ShouldBe(0, $"python3 could not convert YAML to JSON (is python3-yaml installed?):\n{result.Stderr}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    private static Task<ProcessResult> RunComposeAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsync("docker-compose", ["-f", Path.Combine(RepoRoot, ComposeFile), .. arguments], null, cancellationToken);

    private static async Task<ProcessResult> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = RepoRoot,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Validate the committed .env, not whatever this shell happens to export.
        foreach (var name in DotEnv.Keys.Concat(["COMPOSE_FILE", "COMPOSE_PROFILES"]))
        {
            startInfo.Environment.Remove(name);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"'{fileName}' was not found. These tests validate docker-compose.yml offline with Docker Compose v1 "
                + "(and read its output with python3-yaml, which it depends on): install it with `sudo apt-get install docker-compose` "
                + "(eng/ensure-tools.sh does so in CI).", e);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProcessTimeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.WriteAsync((standardInput ?? "").AsMemory(), timeout.Token);
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token);
            return new ProcessResult(process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {ProcessTimeout.TotalSeconds} s.");
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrderExport.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"OrderExport.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>KEY=VALUE lines of the repository's .env; comments and blank lines skipped.</summary>
    private static Dictionary<string, string> ReadDotEnv() =>
        File.ReadAllLines(Path.Combine(RepoRoot, ".env"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
}
