namespace OrderExport.UnitTests.Domain;

/// <summary>
/// src/OrderExport/Domain depends on nothing but itself: aggregates raise events and never
/// learn how they are stored or dispatched (docs/decisions/0004-domain-events-through-mediator.md).
/// Read from the source tree, so a mention in a comment or a using counts too.
/// </summary>
public sealed class DomainDependencyTests
{
    [Theory]
    [InlineData("DbContext")]
    [InlineData("Microsoft.EntityFrameworkCore")]
    [InlineData("OrderExport.Persistence")]
    [InlineData("Mediator")]
    public void DomainFiles_DoNotMention(string forbidden)
    {
        var files = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src", "OrderExport", "Domain"), "*.cs", SearchOption.AllDirectories);

        files.ShouldNotBeEmpty();
        var offenders = files
            .Where(file => File.ReadAllText(file).Contains(forbidden, StringComparison.Ordinal))
            .Select(Path.GetFileName);
        offenders.ShouldBeEmpty($"src/OrderExport/Domain must not mention {forbidden}");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrderExport.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No OrderExport.sln above {AppContext.BaseDirectory}.");
    }
}
