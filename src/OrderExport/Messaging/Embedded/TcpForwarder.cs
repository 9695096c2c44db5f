using System.Net;
using System.Net.Sockets;

namespace OrderExport.Messaging.Embedded;

/// <summary>
/// Forwards connections from a fixed loopback port to the embedded broker's bootstrap address:
/// librdkafka's mock cluster picks its own ports, and a saved kcat or Kafka UI configuration should
/// survive a restart. Only the bootstrap hop goes through it; clients then reach the broker at the
/// address its metadata advertises (also on loopback).
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();

    private TcpForwarder(TcpListener listener, string target)
    {
        _listener = listener;
        var separator = target.LastIndexOf(':');
        _targetHost = target[..separator];
        _targetPort = int.Parse(target[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        _ = AcceptAsync();
    }

    /// <param name="setting">Named in the start-up error when the port cannot be bound.</param>
    public static TcpForwarder Start(int port, string target, string setting)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"{setting}: cannot listen on 127.0.0.1:{port} ({e.SocketErrorCode}); choose a free port, or 0 for a new one each start.", e);
        }

        return new TcpForwarder(listener, target);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token);
                var (a, b) = (client.GetStream(), upstream.GetStream());
                // Whichever side closes first ends both.
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // A client or the broker went away: nothing to keep.
            }
        }
    }

    public void Dispose()
    {
        // Not disposed: pipes still winding down read its token.
        _stop.Cancel();
        _listener.Stop();
    }
}
