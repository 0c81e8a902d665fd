#!/usr/bin/env bash
# Build a corpus of third-party clang objects for bench/core (the CO-RE comparison with
# libbpf) from source trees you fetched yourself. Nothing here is committed: sources are
# exported to .corpus/src/ and objects built into .corpus/obj/ (both gitignored).
#
#   scripts/build-core-corpus.sh bcc=/path/to/bcc-git-dir bootstrap=/path/to/libbpf-bootstrap-git-dir \
#     cilium=/path/to/cilium-ebpf-git-dir
#
# Each NAME=GITDIR is a git directory (a bare mirror or a clone's .git) whose HEAD is exported.
# Known layouts: bcc (libbpf-tools/*.bpf.c, against the vmlinux.h bcc ships in
# libbpf-tools/x86/), bootstrap (libbpf-bootstrap examples/c/*.bpf.c; its vmlinux.h is a
# submodule, so bcc's vmlinux.h is used, exported first), cilium (cilium/ebpf's testdata/*.c and
# btf/testdata/*.c with their own headers: the CO-RE self-checks of bench/core-selftest.ts). Objects that clang rejects are
# listed and skipped. Needs clang-19, libbpf-dev headers, git.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=build-core-corpus
# shellcheck source=lib/toolchain.sh
. "$ROOT/scripts/lib/toolchain.sh"
require_toolchain
CORPUS="$ROOT/.corpus"
mkdir -p "$CORPUS/src" "$CORPUS/obj"
[ "$#" -gt 0 ] || die "usage: $0 bcc=GITDIR bootstrap=GITDIR cilium=GITDIR (any of them)"

declare -A DIRS=()
for arg in "$@"; do
  name="${arg%%=*}" dir="${arg#*=}"
  [ -d "$dir" ] || die "$dir is not a directory"
  rm -rf "${CORPUS:?}/src/$name"
  mkdir -p "$CORPUS/src/$name"
  case "$name" in
    bcc) paths=(':(glob)libbpf-tools/*.[ch]' libbpf-tools/x86) ;;
    bootstrap) paths=(examples/c) ;;
    cilium) paths=(testdata btf/testdata) ;;
    *) die "unknown layout $name (known: bcc, bootstrap, cilium)" ;;
  esac
  git --git-dir="$dir" archive --format=tar HEAD -- "${paths[@]}" | tar -x -C "$CORPUS/src/$name"
  DIRS[$name]="$CORPUS/src/$name"
done

failed=()
build() { # build PREFIX SOURCE INCLUDE...
  local prefix="$1" src="$2" out
  shift 2
  out="$CORPUS/obj/$prefix-$(basename "$src" .bpf.c).o"
  local inc=() d
  for d in "$@"; do inc+=(-I"$d"); done
  if "$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wno-everything "${inc[@]}" \
    -I"/usr/include/$MULTIARCH" -c "$src" -o "$out" 2>"$out.log"; then
    rm -f "$out.log"
    echo "  CLANG ${out#"$ROOT"/}"
  else
    rm -f "$out"
    failed+=("$prefix/$(basename "$src")")
  fi
}

VMLINUX_DIR=""
if [ -n "${DIRS[bcc]:-}" ]; then
  tools="${DIRS[bcc]}/libbpf-tools"
  VMLINUX_DIR="$tools/x86"
  for src in "$tools"/*.bpf.c; do build bcc "$src" "$tools" "$tools/x86"; done
fi
if [ -n "${DIRS[bootstrap]:-}" ]; then
  [ -n "$VMLINUX_DIR" ] || die "bootstrap needs bcc's vmlinux.h: pass bcc=GITDIR too"
  ex="${DIRS[bootstrap]}/examples/c"
  for src in "$ex"/*.bpf.c; do build bootstrap "$src" "$ex" "$VMLINUX_DIR"; done
fi
if [ -n "${DIRS[cilium]:-}" ]; then
  # cilium/ebpf's test objects (plain .c, their own headers), built as its Makefile does
  for src in "${DIRS[cilium]}"/testdata/*.c "${DIRS[cilium]}"/btf/testdata/*.c; do
    out="$CORPUS/obj/cilium-$(basename "$src" .c).o"
    if "$CLANG" -O2 -g -mcpu=v2 -target bpfel -Wno-everything -I"${DIRS[cilium]}/testdata" \
      -I"${DIRS[cilium]}/btf/testdata" -c "$src" -o "$out" 2>"$out.log"; then
      rm -f "$out.log"
      echo "  CLANG ${out#"$ROOT"/}"
    else
      rm -f "$out"
      failed+=("cilium/$(basename "$src")")
    fi
  done
fi
echo "built $(find "$CORPUS/obj" -name '*.o' | wc -l) objects into .corpus/obj"
if [ "${#failed[@]}" -gt 0 ]; then echo "clang failed on: ${failed[*]}"; fi
