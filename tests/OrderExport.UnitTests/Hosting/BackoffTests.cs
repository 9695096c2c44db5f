using OrderExport.Hosting;

namespace OrderExport.UnitTests.Hosting;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(4, 8000)]
    public void Exponential_DoublesPerAttemptWithinJitter(int attempt, double expectedMs)
    {
        for (var i = 0; i < 100; i++)
        {
            var delay = Backoff.Exponential(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
            delay.TotalMilliseconds.ShouldBeInRange(expectedMs * 0.8, expectedMs * 1.2);
        }
    }

    [Fact]
    public void Exponential_NeverExceedsMax()
    {
        for (var attempt = 1; attempt < 100; attempt++)
        {
            Backoff.Exponential(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)).ShouldBeLessThanOrEqualTo(TimeSpan.FromSeconds(30));
        }
    }
}
