namespace OrderExport.Persistence;

/// <summary>
/// Whether the schema is migrated in this process. Work that needs the tables (the relay, the
/// consumer) waits for it; readiness reports why it is not yet.
/// </summary>
public sealed class DatabaseSchema
{
    private readonly TaskCompletionSource _migrated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsMigrated => _migrated.Task.IsCompleted;

    /// <summary>Why the last migration attempt failed; null once migrated.</summary>
    public Exception? LastError { get; private set; }

    public Task WaitAsync(CancellationToken cancellationToken) => _migrated.Task.WaitAsync(cancellationToken);

    internal void Migrated()
    {
        LastError = null;
        _migrated.TrySetResult();
    }

    internal void Unreachable(Exception error) => LastError = error;
}
