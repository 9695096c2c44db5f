namespace OrderExport.Platform;

/// <summary>
/// The platform client's connections. Nothing here limits how many exports run at once or makes
/// one wait for a connection: the consumer bounds that (partitions × Consumer:MaxInFlightPerPartition,
/// 48 by default), and the pool opens a connection for each concurrent call and keeps it for the
/// next. One handler serves the process's life (the HttpClient factory does not rotate it, which
/// would drop the pool every two minutes); each connection is renewed after
/// <see cref="ConnectionLifetime"/>, so a changed DNS entry is followed.
/// </summary>
internal static class PlatformConnections
{
    /// <summary>How long a pooled connection is reused before it is replaced (DNS changes are seen then).</summary>
    public static readonly TimeSpan ConnectionLifetime = TimeSpan.FromMinutes(5);

    /// <summary>An idle connection is closed after this; below the idle timeouts of common load balancers and servers.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(50);

    public static SocketsHttpHandler CreateHandler() => new()
    {
        // No cap: every concurrent export gets a connection of its own (HTTP/1.1), or shares one of several (HTTP/2).
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        PooledConnectionLifetime = ConnectionLifetime,
        PooledConnectionIdleTimeout = IdleTimeout,
        // Everything else stays HttpClient's default: redirects are followed and cookies kept (a load
        // balancer's affinity), and connecting has no timeout of its own: the attempt's timeout
        // (Platform:AttemptTimeout, in the resilience pipeline) bounds it.
    };
}
