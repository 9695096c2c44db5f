using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace OrderExport.Platform.Fake;

/// <summary>
/// The address this service listens on, for calling the fake platform it hosts itself over
/// real HTTP (Platform:BaseAddress empty). Wildcard hosts become loopback.
/// </summary>
internal static class SelfAddress
{
    /// <summary>Null while the server has no address (not started yet, or an in-memory test server).</summary>
    public static Uri? TryFor(IServiceProvider services)
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses.FirstOrDefault();
        if (address is null)
        {
            return null;
        }

        foreach (var wildcard in new[] { "://+:", "://*:", "://[::]:", "://0.0.0.0:" })
        {
            address = address.Replace(wildcard, "://127.0.0.1:", StringComparison.Ordinal);
        }

        return new UriBuilder(address) { Path = "/" }.Uri;
    }
}
