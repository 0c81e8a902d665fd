#!/bin/sh
# Makes the Node-API binaries that `npm pack` ships, so that installing tsbpf needs no C
# toolchain: prebuilds/linux-<arch>/tsbpf.napi.glibc.node (the addon, found at run time by
# node-gyp-build: src/sys/native.ts) and prebuilds/linux-<arch>/tsbpf-client (the build
# server's client, found by bin/tsbpf), for x64 and arm64. Run by `npm pack` (package.json
# "prepack") and `make prebuilds`; prebuilds/ is a build artefact, never committed.
#
# Each architecture is built by node-gyp in a temporary copy of binding.gyp and native/ (the
# checkout's own build/ is left alone) against the running Node's headers, with
# tsbpf_portable=1: the addon needs glibc 2.28 at most, the client is linked statically. The
# other architecture is cross-compiled with Debian's <triple>-gcc (gcc-aarch64-linux-gnu for
# arm64 on x64: `make apt` installs it). PREBUILD_ARCHS="x64" limits the set.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
archs=${PREBUILD_ARCHS:-x64 arm64}
host=$(node -p process.arch)
nodedir=$(node -p "require('path').resolve(process.execPath, '../..')")
die() { echo "prebuilds: $*" >&2; exit 1; }
[ -f "$nodedir/include/node/node_api.h" ] ||
  die "no Node headers at $nodedir/include/node (a Node installed with its headers is needed)"
# npm passes its node-gyp to scripts; outside npm, one on PATH.
if [ -n "${npm_config_node_gyp-}" ] && [ -f "$npm_config_node_gyp" ]; then
  gyp() { node "$npm_config_node_gyp" "$@"; }
elif command -v node-gyp >/dev/null; then
  gyp() { node-gyp "$@"; }
else
  die "node-gyp not found: run this through npm (npm run prebuilds)"
fi

triple() {
  case $1 in
  x64) echo x86_64-linux-gnu ;;
  arm64) echo aarch64-linux-gnu ;;
  *) die "no cross compiler known for $1" ;;
  esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for arch in $archs; do
  src=$work/$arch
  mkdir -p "$src/native"
  cp "$root/binding.gyp" "$src/"
  cp "$root"/native/*.c "$src/native/"
  if [ "$arch" = "$host" ]; then
    cc=${CC:-cc} strip=strip
  else
    t=$(triple "$arch")
    cc=$t-gcc strip=$t-strip
    command -v "$cc" >/dev/null ||
      die "$cc not found, needed for the $arch binaries (Debian: apt install gcc-$t, or make apt)"
  fi
  echo "  PREBUILD linux-$arch ($cc)"
  # C only: the C compiler links too (node-gyp links with $CXX by default).
  (cd "$src" && CC=$cc CXX=$cc LINK=$cc gyp rebuild --arch="$arch" --nodedir="$nodedir" \
    --tsbpf_portable=1 --loglevel=warn >"$work/$arch.log" 2>&1) ||
    { cat "$work/$arch.log" >&2; die "building the $arch binaries failed"; }
  out=$work/out-$arch
  mkdir -p "$out"
  cp "$src/build/Release/tsbpf.node" "$out/tsbpf.napi.glibc.node"
  cp "$src/build/Release/tsbpf-client" "$out/tsbpf-client"
  "$strip" --strip-unneeded "$out/tsbpf.napi.glibc.node"
  "$strip" --strip-all "$out/tsbpf-client"
  mkdir -p "$root/prebuilds"
  rm -rf "$root/prebuilds/linux-$arch"
  mv "$out" "$root/prebuilds/linux-$arch"
done
