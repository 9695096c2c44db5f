using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// The service as a process of its own (<c>dotnet OrderExport.dll</c> from this test's output),
/// configured through environment variables, so a test can kill it the hard way: no graceful
/// stop, no leave-group, no final commit, as when a machine dies.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private bool _disposed;

    private ServiceProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IReadOnlyCollection<string> Output => _output;

    /// <param name="settings">Configuration keys as in appsettings (<c>Kafka:Topic</c>); passed as environment variables.</param>
    public static ServiceProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "OrderExport.dll"));
        start.ArgumentList.Add("--urls");
        // Port 0: the kernel picks a free one at bind time (no race with a port picked beforehand).
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? "";
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        return new ServiceProcess(process);
    }

    /// <summary>Waits until a line of the service's log matches; the log so far is in the timeout's message.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> match, TimeSpan timeout, string because)
    {
        var line = await Eventually.Until(() => Task.FromResult(_output.FirstOrDefault(match) ?? (_process.HasExited ? "" : null)),
            found => found is not null, timeout, because);
        return line is { Length: > 0 }
            ? line
            : throw new InvalidOperationException($"The service process exited ({_process.ExitCode}) before: {because}. Its log: {string.Join(Environment.NewLine, _output.TakeLast(40))}");
    }

    /// <summary>SIGKILL: the process ends at once, with whatever it had in hand.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
