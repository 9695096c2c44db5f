using System.Data.Common;

namespace OrderExport.Persistence;

/// <summary>
/// Whether a failure means the database could not be reached (refused, timed out, a transient
/// provider error) rather than that it refused what we sent: the first passes by itself, so the
/// service waits and answers 503 meanwhile; the second is a bug or bad data.
/// </summary>
public static class DatabaseUnavailable
{
    public static bool Is(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException { IsTransient: true } or TimeoutException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The provider's own words when it has them (SqlClient's innermost exception of a refused
    /// connection says only "Success"), else the root cause's.
    /// </summary>
    public static string Reason(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException)
            {
                return e.Message;
            }
        }

        return exception.GetBaseException().Message;
    }

    /// <summary>"SqlServer database 'orderexport' at 127.0.0.1,1433": which database, without credentials.</summary>
    public static string Describe(DatabaseProvider provider, DbConnection connection) =>
        $"{provider} database '{connection.Database}' at {connection.DataSource}";
}
