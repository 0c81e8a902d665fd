#!/usr/bin/env bash
# Build the C originals of examples/tools (bcc libbpf-tools and libbpf-bootstrap user-space
# programs, with libbpf skeletons of the clang objects scripts/build-core-corpus.sh built) for
# bench/tools-compare.ts. Run build-core-corpus.sh first; everything goes to .corpus/tools/
# (gitignored): nothing fetched or built from fetched sources is committed.
#
#   scripts/build-tools-c.sh            # every tool bench/tools-compare.ts knows
#   scripts/build-tools-c.sh execsnoop  # some
#
# Needs clang-19, bpftool (gen skeleton), libbpf-dev, libelf-dev, zlib.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=build-tools-c
# shellcheck source=lib/toolchain.sh
. "$ROOT/scripts/lib/toolchain.sh"
require_toolchain
command -v bpftool >/dev/null || die "bpftool not found (apt-get install bpftool)"
CORPUS="$ROOT/.corpus"
BCC="$CORPUS/src/bcc/libbpf-tools"
BOOT="$CORPUS/src/bootstrap/examples/c"
[ -d "$BCC" ] && [ -d "$BOOT" ] || die "no sources in .corpus/src: run scripts/build-core-corpus.sh bcc=… bootstrap=… first"
OUT="$CORPUS/tools"
mkdir -p "$OUT/include"

BCC_TOOLS=(execsnoop exitsnoop opensnoop sigsnoop statsnoop runqslower runqlat cpudist syscount syncsnoop)
BOOT_TOOLS=(bootstrap minimal)
failed=()
want=("$@")
[ "${#want[@]}" -gt 0 ] || want=("${BCC_TOOLS[@]}" "${BOOT_TOOLS[@]}")

# the helpers bcc's tools link (each tool uses a few; unused ones cost nothing)
HELPERS=(trace_helpers.c btf_helpers.c uprobe_helpers.c map_helpers.c errno_helpers.c syscall_helpers.c path_helpers.c compat.c)
for t in "${want[@]}"; do
  if [[ " ${BCC_TOOLS[*]} " == *" $t "* ]]; then
    obj="$CORPUS/obj/bcc-$t.o" src="$BCC/$t.c" inc=(-I"$BCC" -I"$BCC/x86")
    libs=()
    for h in "${HELPERS[@]}"; do [ -f "$BCC/$h" ] && libs+=("$BCC/$h"); done
  elif [[ " ${BOOT_TOOLS[*]} " == *" $t "* ]]; then
    obj="$CORPUS/obj/bootstrap-$t.o" src="$BOOT/$t.c" inc=(-I"$BOOT")
    libs=()
  else
    die "unknown tool $t (known: ${BCC_TOOLS[*]} ${BOOT_TOOLS[*]})"
  fi
  [ -f "$obj" ] || die "$obj missing: run scripts/build-core-corpus.sh"
  if bpftool gen skeleton "$obj" name "${t}_bpf" >"$OUT/include/$t.skel.h" 2>"$OUT/$t.log" &&
    "$CLANG" -O1 -g -w -I"$OUT/include" "${inc[@]}" -o "$OUT/$t" "$src" "${libs[@]}" -lbpf -lelf -lz 2>>"$OUT/$t.log"; then
    rm -f "$OUT/$t.log"
    echo "  CC .corpus/tools/$t"
  else
    rm -f "$OUT/$t"
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then echo "failed (see .corpus/tools/NAME.log): ${failed[*]}"; fi
