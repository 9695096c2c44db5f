using OrderExport.Health;

namespace OrderExport.UnitTests.Structure;

/// <summary>
/// The folders of src/OrderExport use one another only as docs/architecture.md allows: each
/// folder's row lists the folders it may use. The table itself has no cycle, so neither has the
/// code. A new folder needs a row; a new use across folders needs the table (and the page) to
/// say so.
/// </summary>
public sealed class DependencyRulesTests
{
    /// <summary>docs/architecture.md, "Which folder may use which". The composition root (the root namespace) may use all.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        ["Domain"] = [],
        ["Hosting"] = [],
        ["Telemetry"] = [],
        ["Messaging"] = [],
        ["Persistence"] = ["Domain", "Hosting"],
        ["Api"] = ["Persistence"],
        ["Platform"] = ["Api", "Telemetry"],
        ["Orders"] = ["Domain", "Persistence", "Api", "Telemetry"],
        ["Outbox"] = ["Orders", "Messaging", "Persistence", "Hosting", "Telemetry"],
        ["Export"] = ["Orders", "Messaging", "Platform", "Persistence", "Api", "Hosting", "Telemetry"],
        ["Health"] = ["Export", "Outbox", "Orders", "Messaging", "Persistence", "Hosting", "Telemetry"],
        ["Operations"] = ["Health", "Export", "Outbox", "Orders", "Messaging", "Persistence", "Api", "Telemetry"],
    };

    [Fact]
    public void Folders_UseOnlyTheFoldersTheTableAllows()
    {
        var uses = FolderDependencies.FromAssembly(typeof(HealthOptions).Assembly.Location)
            .Concat(FolderDependencies.FromSource(SourceRoot()));

        var forbidden = FolderDependencies.Forbidden(uses, Allowed);

        forbidden.ShouldBeEmpty("forbidden dependencies between folders (docs/architecture.md):\n" + string.Join("\n", forbidden) + "\n");
    }

    [Fact]
    public void EveryFolder_HasARow()
    {
        var folders = FolderDependencies.FromAssembly(typeof(HealthOptions).Assembly.Location)
            .SelectMany(use => new[] { use.From, use.To })
            .Concat(Directory.GetDirectories(SourceRoot()).Select(Path.GetFileName).OfType<string>()
                .Where(name => Directory.EnumerateFiles(Path.Combine(SourceRoot(), name), "*.cs", SearchOption.AllDirectories).Any()
                    && name is not ("bin" or "obj" or "Properties")))
            .Where(folder => folder != FolderDependencies.Root)
            .Distinct();

        folders.Where(folder => !Allowed.ContainsKey(folder)).ShouldBeEmpty("folders without a row in the table");
    }

    [Fact]
    public void Table_HasNoCycle()
    {
        var done = new HashSet<string>();
        var path = new List<string>();

        void Visit(string folder)
        {
            if (path.Contains(folder))
            {
                throw new ShouldAssertException("cycle: " + string.Join(" -> ", path.SkipWhile(f => f != folder).Append(folder)));
            }

            if (!done.Add(folder))
            {
                return;
            }

            path.Add(folder);
            foreach (var used in Allowed.GetValueOrDefault(folder, []))
            {
                Visit(used);
            }

            path.RemoveAt(path.Count - 1);
        }

        foreach (var folder in Allowed.Keys)
        {
            Visit(folder);
        }
    }

    [Fact]
    public void Checker_ReportsEachForbiddenFolderPairWithItsEvidence()
    {
        FolderUse[] uses =
        [
            new("Outbox", "Health", "OutboxMonitor uses HealthOptions"),
            new("Outbox", "Health", "OutboxMonitor.cs: using OrderExport.Health;"),
            new("Outbox", "Persistence", "OutboxStore uses OrderExportDbContext"),
            new("Domain", "Orders", "AggregateRoot uses Order"),
            new(FolderDependencies.Root, "Health", "OrderExportServiceCollectionExtensions uses HealthEndpoints"),
        ];

        FolderDependencies.Forbidden(uses, Allowed).ShouldBe(
        [
            "Domain -> Orders (AggregateRoot uses Order)",
            "Outbox -> Health (OutboxMonitor uses HealthOptions; OutboxMonitor.cs: using OrderExport.Health;)",
        ]);
    }

    [Fact]
    public void Reader_SeesAUseInsideALambda()
    {
        // This test assembly is read like the service's: its folder is "UnitTests".
        var uses = FolderDependencies.FromAssembly(typeof(DependencyRulesTests).Assembly.Location);

        uses.ShouldContain(new FolderUse("UnitTests", "Health", "UsesHealthInALambda uses HealthOptions"));
    }

    private static string SourceRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrderExport.sln")))
            {
                return Path.Combine(directory.FullName, "src", "OrderExport");
            }
        }

        throw new InvalidOperationException($"No OrderExport.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>Uses Health only inside a lambda's body, where no signature shows it.</summary>
internal static class UsesHealthInALambda
{
    public static Func<TimeSpan> StallAfter() => () => new HealthOptions().ConsumerStallAfter;
}
