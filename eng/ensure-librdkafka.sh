#!/usr/bin/env bash
# Makes sure `dotnet restore` can find librdkafka.redist 2.15.1, the native half of
# Confluent.Kafka 2.15.1.
#
# On a machine whose NuGet sources have the real package this does nothing but a quick
# probe. Where they do not (our mirror: see docs/decisions/0002-native-librdkafka.md), it
# builds librdkafka 2.15.1 from the source shipped in the npm package
# @confluentinc/kafka-javascript@1.10.1 and packs it as a local librdkafka.redist 2.15.1
# in $ORDEREXPORT_CACHE/nuget-local, which Directory.Build.props adds as a restore source
# when that folder exists. Everything is cached outside the repo, so a second run is free.
set -euo pipefail

readonly LIBRDKAFKA_VERSION=2.15.1
readonly NPM_PACKAGE="@confluentinc/kafka-javascript@1.10.1"
readonly CACHE="${ORDEREXPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderexport}"
readonly FEED="$CACHE/nuget-local"
readonly NUPKG="$FEED/librdkafka.redist.$LIBRDKAFKA_VERSION.nupkg"

log() { echo "[librdkafka] $*" >&2; }
die() { echo "[librdkafka] ERROR: $*" >&2; exit 1; }

if [[ -f "$NUPKG" ]]; then
  log "local librdkafka.redist $LIBRDKAFKA_VERSION already in $FEED"
  exit 0
fi

# 1. Can the configured NuGet sources give us the real package? Probe with a throw-away
#    project so the answer comes from NuGet itself, not from a guess about the network.
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
cat > "$probe_dir/Probe.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="librdkafka.redist" Version="[$LIBRDKAFKA_VERSION]" />
  </ItemGroup>
</Project>
XML
# An empty Directory.Build.props stops the probe from importing anything above the temp dir.
echo '<Project />' > "$probe_dir/Directory.Build.props"
echo '<Project />' > "$probe_dir/Directory.Packages.props"
if dotnet restore "$probe_dir/Probe.csproj" --nologo -v q >"$probe_dir/restore.log" 2>&1; then
  log "NuGet provides librdkafka.redist $LIBRDKAFKA_VERSION: nothing to build"
  exit 0
fi
grep -q "NU1101\|NU1102\|NU1103" "$probe_dir/restore.log" \
  || { cat "$probe_dir/restore.log" >&2; die "probe restore failed for a reason other than a missing package (see above)"; }
log "NuGet lacks librdkafka.redist $LIBRDKAFKA_VERSION: building it from source (once, cached in $CACHE)"

# 2. Build tools and headers. Name the Debian package for anything missing; install it when
#    we are root in CI (a developer's machine is theirs to change).
need_pkgs=()
for tool in gcc:gcc make:make pkg-config:pkg-config npm:npm tar:tar; do
  command -v "${tool%%:*}" >/dev/null || need_pkgs+=("${tool##*:}")
done
for hdr in openssl/ssl.h:libssl-dev zlib.h:zlib1g-dev zstd.h:libzstd-dev lz4.h:liblz4-dev; do
  [[ -f "/usr/include/${hdr%%:*}" ]] || need_pkgs+=("${hdr##*:}")
done
if ((${#need_pkgs[@]})); then
  if [[ "${CI:-}" == "true" && "$(id -u)" == "0" ]]; then
    log "installing ${need_pkgs[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
      || die "apt-get install ${need_pkgs[*]} failed"
  else
    die "missing build prerequisites; install them with: sudo apt-get install ${need_pkgs[*]}"
  fi
fi

# 3. Fetch the source from npm and build only the C library.
src_root="$CACHE/src"
src="$src_root/librdkafka-$LIBRDKAFKA_VERSION"
if [[ ! -f "$src/src/librdkafka.so.1" ]]; then
  rm -rf "$src_root" && mkdir -p "$src_root"
  (cd "$src_root" && npm pack "$NPM_PACKAGE" --silent >/dev/null) || die "npm pack $NPM_PACKAGE failed"
  tar -xzf "$src_root"/*.tgz -C "$src_root" package/deps/librdkafka
  mv "$src_root/package/deps/librdkafka" "$src"
  grep -q "RD_KAFKA_VERSION  *0x020f01" "$src/src/rdkafka.h" \
    || die "the npm package did not carry librdkafka $LIBRDKAFKA_VERSION"
  log "configuring and building (about a minute on 2 cores)"
  (cd "$src" && ./configure --disable-gssapi --disable-curl >"$src_root/configure.log" 2>&1) \
    || die "configure failed, see $src_root/configure.log"
  (cd "$src" && make -j"$(nproc)" libs >"$src_root/make.log" 2>&1) \
    || die "make failed, see $src_root/make.log"
fi

# 4. Pack it like the real package: runtimes/linux-x64/native/librdkafka.so.
pack_dir="$CACHE/pack"
rm -rf "$pack_dir" && mkdir -p "$pack_dir" "$FEED"
cp "$src/src/librdkafka.so.1" "$pack_dir/librdkafka.so"
cat > "$pack_dir/librdkafka.redist.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
    <PackageId>librdkafka.redist</PackageId>
    <Version>$LIBRDKAFKA_VERSION</Version>
    <Authors>OrderExport (local build of librdkafka)</Authors>
    <Description>librdkafka $LIBRDKAFKA_VERSION built from source for linux-x64; stands in for the official package where NuGet lacks it.</Description>
    <IncludeBuildOutput>false</IncludeBuildOutput>
    <NoWarn>\$(NoWarn);NU5128</NoWarn>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <None Include="librdkafka.so" Pack="true" PackagePath="runtimes/linux-x64/native/" />
  </ItemGroup>
</Project>
XML
echo '<Project />' > "$pack_dir/Directory.Build.props"
echo '<Project />' > "$pack_dir/Directory.Packages.props"
dotnet pack "$pack_dir/librdkafka.redist.csproj" --nologo -v q -o "$FEED" >"$pack_dir/pack.log" 2>&1 \
  || { cat "$pack_dir/pack.log" >&2; die "packing the local librdkafka.redist failed"; }
# A failed earlier restore may have cached "not found"; make NuGet look again.
rm -rf "$HOME/.nuget/packages/librdkafka.redist/$LIBRDKAFKA_VERSION"
log "built $NUPKG"
