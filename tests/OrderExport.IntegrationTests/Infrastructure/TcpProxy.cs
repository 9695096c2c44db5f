using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace OrderExport.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a server (the test PostgreSQL), so a test can make the
/// database unreachable for the service without touching the server: <see cref="Cut"/> closes
/// every live connection (both sides, so the server rolls back what they had open) and turns
/// new ones away until <see cref="Restore"/>.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<int, Link> _links = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private ProxyState _state = ProxyState.Forwarding;
    private int _nextLink;
    private int _forwarded;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = Listen(0);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync(_listener);
    }

    /// <summary>What a cut does to new connection attempts.</summary>
    public enum CutMode
    {
        /// <summary>The port stops listening: connection attempts are refused at once.</summary>
        Refuse,

        /// <summary>Connections are accepted and never answered (a black hole), until <see cref="Restore"/> closes them.</summary>
        Hold,
    }

    private enum ProxyState
    {
        Forwarding,
        Refusing,
        Holding,
    }

    public int Port { get; }

    /// <summary>Connections forwarded so far.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    /// <summary>A proxy in front of the host and port of a PostgreSQL connection string.</summary>
    public static TcpProxy ForPostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var address = Dns.GetHostAddresses(builder.Host!).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new TcpProxy(new IPEndPoint(address, builder.Port));
    }

    /// <summary>
    /// The same connection string, through this proxy. A short connect timeout makes an
    /// unreachable database fail fast instead of after Npgsql's default 15 s.
    /// </summary>
    public string Redirect(string connectionString, int timeoutSeconds = 2) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = IPAddress.Loopback.ToString(),
            Port = Port,
            Timeout = timeoutSeconds,
            CommandTimeout = 15,
        }.ConnectionString;

    /// <summary>Closes every live connection and turns new ones away until <see cref="Restore"/>.</summary>
    public void Cut(CutMode mode = CutMode.Refuse)
    {
        lock (_gate)
        {
            _state = mode == CutMode.Refuse ? ProxyState.Refusing : ProxyState.Holding;
            if (mode == CutMode.Refuse)
            {
                _listener?.Stop();
                _listener = null;
            }
        }

        CloseAll();
    }

    /// <summary>Forwards again (held connection attempts are closed; clients reconnect).</summary>
    public void Restore()
    {
        lock (_gate)
        {
            if (_state == ProxyState.Forwarding)
            {
                return;
            }

            _state = ProxyState.Forwarding;
            if (_listener is null)
            {
                _listener = Listen(Port);
                _ = AcceptLoopAsync(_listener);
            }
        }

        CloseAll();
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
        }

        CloseAll();
        return ValueTask.CompletedTask;
    }

    private static TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        // Accepted connections keep the port in TIME_WAIT: allow listening on it again after a cut.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        return listener;
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return; // Stopped by a cut or by dispose.
            }

            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        var link = new Link(client);
        var id = Interlocked.Increment(ref _nextLink);
        _links[id] = link;
        try
        {
            ProxyState state;
            lock (_gate)
            {
                state = _state;
            }

            if (state != ProxyState.Forwarding)
            {
                // Held: nothing is read or answered; Restore or Cut closes it.
                await Task.Delay(Timeout.Infinite, link.Closed).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return;
            }

            await link.Server.ConnectAsync(_target, link.Closed);
            Interlocked.Increment(ref _forwarded);
            await Task.WhenAny(Pump(link.Client, link.Server, link.Closed), Pump(link.Server, link.Client, link.Closed));
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // A cut, or one side went away: the other side is closed below.
        }
        finally
        {
            _links.TryRemove(id, out _);
            link.Close();
        }
    }

    private static async Task Pump(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closed by a cut or by the other side.
        }
    }

    private void CloseAll()
    {
        foreach (var link in _links.Values)
        {
            link.Close();
        }
    }

    /// <summary>One client connection and its connection to the server.</summary>
    private sealed class Link(Socket client)
    {
        private readonly CancellationTokenSource _closed = new();
        private int _closedOnce;

        public Socket Client { get; } = client;

        public Socket Server { get; } = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public CancellationToken Closed => _closed.Token;

        public void Close()
        {
            if (Interlocked.Exchange(ref _closedOnce, 1) == 1)
            {
                return;
            }

            _closed.Cancel();
            foreach (var socket in new[] { Client, Server })
            {
                try
                {
                    // Reset, not a polite FIN: like a network that just went away, both ends notice at once.
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // Already gone.
                }
            }
        }
    }
}
