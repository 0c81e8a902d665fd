#!/usr/bin/env bash
# Build the clang/libbpf fixture objects the tests load:
#   test/fixtures/c/*.bpf.c            -> test/fixtures/obj/<name>.o
#   examples/trace_http/c/*.bpf.c      -> test/fixtures/obj/<name>.o
#   test/fixtures/c/uprobe_target.c    -> test/fixtures/obj/uprobe_target (gcc; uprobe target)
#   test/fixtures/c/uprobe_funcs.c     -> test/fixtures/obj/uprobe_funcs (gcc; three probed functions)
#   test/fixtures/c/libtsbpf_target.c  -> test/fixtures/obj/libtsbpf_target.so
#   test/fixtures/c/uprobe_target_shared.c -> test/fixtures/obj/uprobe_target_shared (links the .so)
#   test/fixtures/c/libbpf_config.c    -> test/fixtures/obj/libbpf_config (gcc -lbpf; sets .rodata)
#   test/fixtures/c/usdt_target.c      -> test/fixtures/obj/usdt_target (gcc; USDT probes, sys/sdt.h)
# Incremental: an output is rebuilt only when it is missing or older than one of its inputs
# (the source, every header clang reported in its dependency file, and this script).
# Needs: clang-19 (override with CLANG=...), bpftool (only for sources that include
# vmlinux.h), gcc, libbpf-dev, systemtap-sdt-dev. Debian: apt-get install clang-19 llvm-19
# libbpf-dev bpftool gcc systemtap-sdt-dev
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/fixtures/c"
OUT="$ROOT/test/fixtures/obj"
GEN="$ROOT/build/fixtures"         # vmlinux.h and clang dependency files (not committed)
SELF="$ROOT/scripts/build-fixtures.sh"
SCRIPT_NAME=build-fixtures
# shellcheck source=lib/toolchain.sh
. "$ROOT/scripts/lib/toolchain.sh"
require_toolchain

mkdir -p "$OUT" "$GEN/deps"

BPF_CFLAGS=(-O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function
  -I"$GEN" -I"$SRC" -I"/usr/include/$MULTIARCH")

# deps_of DEPFILE : the prerequisites listed in a make-style dependency file written by clang -MD.
deps_of() {
  [ -f "$1" ] || return 0
  sed -e 's/^[^:]*://' -e 's/\\$//' "$1" | tr ' ' '\n' | sed '/^$/d'
}

# vmlinux.h: generated from the running kernel's BTF, only when a source includes it.
# Regenerated when the kernel release changes (recorded next to the header).
vmlinux_h() {
  local hdr="$GEN/vmlinux.h" stamp="$GEN/vmlinux.release" release
  release="$(uname -r)"
  if [ -f "$hdr" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$release" ]; then return 0; fi
  command -v bpftool >/dev/null || die "bpftool not found; it generates vmlinux.h (apt-get install bpftool)"
  [ -r /sys/kernel/btf/vmlinux ] || die "/sys/kernel/btf/vmlinux not readable; the kernel needs CONFIG_DEBUG_INFO_BTF to generate vmlinux.h"
  bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$hdr.tmp" || die "bpftool btf dump failed"
  mv "$hdr.tmp" "$hdr"
  echo "$release" >"$stamp"
  echo "  GEN   build/fixtures/vmlinux.h ($release)"
}

# build_bpf SOURCE : compile one eBPF C source into $OUT/<name>.o.
build_bpf() {
  local src="$1" name obj dep
  name="$(basename "$src" .bpf.c)"
  obj="$OUT/$name.o"
  dep="$GEN/deps/$name.d"
  if grep -q '^#include "vmlinux.h"' "$src"; then vmlinux_h; fi
  local inputs=("$src" "$SELF" "$TOOLCHAIN_SH") d
  while IFS= read -r d; do inputs+=("$d"); done < <(deps_of "$dep")
  if up_to_date "$obj" "${inputs[@]}"; then
    echo "  OK    ${obj#"$ROOT"/} (up to date)"
    return 0
  fi
  if ! "$CLANG" "${BPF_CFLAGS[@]}" -MD -MF "$dep" -c "$src" -o "$obj.tmp"; then
    rm -f "$obj.tmp"
    die "$CLANG failed on ${src#"$ROOT"/} (compiler output above)"
  fi
  mv "$obj.tmp" "$obj"
  echo "  CLANG ${obj#"$ROOT"/}"
}

# build_host OUTPUT SOURCE EXTRA_INPUT... -- COMPILER_ARG... : build a user-space helper with $CC.
build_host() {
  local out="$1" src="$2" inputs=()
  shift 2
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    inputs+=("$1")
    shift
  done
  [ "$#" -gt 0 ] && shift
  if up_to_date "$out" "$src" "$SELF" "$TOOLCHAIN_SH" "$SRC/uprobe_target.h" "${inputs[@]}"; then
    echo "  OK    ${out#"$ROOT"/} (up to date)"
    return 0
  fi
  if ! "$CC" -O1 -g -Wall -Werror -I"$SRC" "$src" -o "$out.tmp" "$@"; then
    rm -f "$out.tmp"
    die "$CC failed on ${src#"$ROOT"/} (compiler output above)"
  fi
  mv "$out.tmp" "$out"
  echo "  CC    ${out#"$ROOT"/}"
}

shopt -s nullglob
sources=("$SRC"/*.bpf.c "$ROOT"/examples/trace_http/c/*.bpf.c)
[ "${#sources[@]}" -gt 0 ] || die "no eBPF sources found under ${SRC#"$ROOT"/}"
for src in "${sources[@]}"; do
  build_bpf "$src"
done

# Uprobe targets: a plain executable and a shared library + an executable linked against it.
# -fno-inline keeps the probed functions as real call targets; -rdynamic exports the
# executable's symbol in .dynsym too, as uprobe tools resolving by dynamic symbol expect.
build_host "$OUT/uprobe_target" "$SRC/uprobe_target.c" -- -fno-inline -rdynamic
build_host "$OUT/uprobe_funcs" "$SRC/uprobe_funcs.c" -- -fno-inline -rdynamic
build_host "$OUT/libtsbpf_target.so" "$SRC/libtsbpf_target.c" -- -fno-inline -shared -fPIC
build_host "$OUT/uprobe_target_shared" "$SRC/uprobe_target_shared.c" "$OUT/libtsbpf_target.so" -- \
  -L"$OUT" -ltsbpf_target -Wl,-rpath,'$ORIGIN'
# A process with USDT probes (sys/sdt.h from systemtap-sdt-dev), one behind a semaphore.
build_host "$OUT/usdt_target" "$SRC/usdt_target.c" --
# A libbpf user setting .rodata configuration before load, as a skeleton does.
build_host "$OUT/libbpf_config" "$SRC/libbpf_config.c" -- -lbpf
