# OrderExport service image: build with the .NET SDK, run on the smaller ASP.NET runtime image.
#   docker build -t orderexport:dev .        (docker compose builds it too: docker-compose.yml)
# NuGet's librdkafka.redist brings Confluent.Kafka's native library for linux-x64 and
# linux-arm64 (runtimes/<rid>/native/ in the publish output), so nothing else is installed. On
# x64 this Debian-based runtime image lacks the default build's libsasl2.so.3; the service loads
# the package's centos8 variant instead (docs/decisions/0002-native-librdkafka.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Project and build settings first: the restore layer is reused until one of them changes,
# not on every source edit.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/OrderExport/OrderExport.csproj src/OrderExport/
RUN dotnet restore src/OrderExport/OrderExport.csproj

COPY src/OrderExport/ src/OrderExport/
# Framework-dependent and portable (no RID): one image recipe for x64 and arm64 hosts.
RUN dotnet publish src/OrderExport/OrderExport.csproj -c Release --no-restore -o /app /p:UseAppHost=false


FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# The application files stay owned by root: the app user can read them but not change them.
COPY --from=build /app ./

# Without configuration the service runs its embedded defaults, whose SQLite file would land in
# /app, which the app user cannot write; its home folder it can. docker-compose.yml sets
# Database__* to PostgreSQL, which overrides this.
ENV Database__ConnectionString="Data Source=/home/app/orderexport.db"

EXPOSE 8080
# Non-root: the aspnet image's "app" user (UID 1654), by number so Kubernetes' runAsNonRoot
# can verify it.
USER $APP_UID
ENTRYPOINT ["dotnet", "OrderExport.dll"]
