#!/usr/bin/env bash
# Build the libbpf reference side of the benchmark (bench/c) into build/bench/:
#   ringbuf_bench.bpf.o  (clang -target bpf; the TypeScript bench loads the same object)
#   ringbuf_consume, map_lookup, load_attach, core_btf, core_selftest  (gcc, linked with -lbpf)
# Incremental: outputs newer than their sources are kept. Needs clang-19 (CLANG=...), gcc,
# libbpf-dev. load_attach times fixture objects: build them with scripts/build-fixtures.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/bench/c"
OUT="$ROOT/build/bench"
SELF="$ROOT/scripts/build-bench-c.sh"
SCRIPT_NAME=build-bench-c
# shellcheck source=lib/toolchain.sh
. "$ROOT/scripts/lib/toolchain.sh"
require_toolchain
mkdir -p "$OUT"

# build OUTPUT LABEL INPUTS... -- COMMAND... : run COMMAND (writing OUTPUT.tmp) if stale.
build() {
  local out="$1" label="$2" inputs=()
  shift 2
  while [ "$1" != "--" ]; do
    inputs+=("$1")
    shift
  done
  shift
  if up_to_date "$out" "${inputs[@]}" "$SELF" "$TOOLCHAIN_SH"; then
    echo "  OK    ${out#"$ROOT"/} (up to date)"
    return 0
  fi
  "$@" -o "$out.tmp" || {
    rm -f "$out.tmp"
    die "$label failed on ${inputs[0]#"$ROOT"/} (compiler output above)"
  }
  mv "$out.tmp" "$out"
  echo "  $label ${out#"$ROOT"/}"
}

build "$OUT/ringbuf_bench.bpf.o" CLANG "$SRC/ringbuf_bench.bpf.c" "$SRC/ringbuf_bench.h" -- \
  "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"/usr/include/$MULTIARCH" \
  -c "$SRC/ringbuf_bench.bpf.c"

HOST_CFLAGS=(-O2 -g -Wall -Werror)
build "$OUT/ringbuf_consume" CC "$SRC/ringbuf_consume.c" "$SRC/ringbuf_bench.h" "$SRC/bench_common.h" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/ringbuf_consume.c" -lbpf -lpthread
build "$OUT/map_lookup" CC "$SRC/map_lookup.c" "$SRC/bench_common.h" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/map_lookup.c" -lbpf
build "$OUT/load_attach" CC "$SRC/load_attach.c" "$SRC/bench_common.h" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/load_attach.c" -lbpf
build "$OUT/core_btf" CC "$SRC/core_btf.c" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/core_btf.c" -lbpf
build "$OUT/core_selftest" CC "$SRC/core_selftest.c" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/core_selftest.c" -lbpf
build "$OUT/export_read" CC "$SRC/export_read.c" "$SRC/bench_common.h" -- \
  "$CC" "${HOST_CFLAGS[@]}" "$SRC/export_read.c" -lbpf
