#!/usr/bin/env bash
# Build the C side of the public program zoo (bench/compiler/zoo/) from source trees you
# fetched yourself. Nothing here is committed: sources are exported to .zoo/src/NAME and
# objects built into .zoo/obj/ (both gitignored). CI cannot fetch, so the side-by-side zoo run
# (`node dist/bench/compiler/run.js --zoo`) is a benchmark on a machine that has them; every
# port also has its own kernel test with written-down expectations (test/kernel/zoo/).
#
#   scripts/build-zoo.sh tutorial=GITDIR katran=GITDIR examples=GITDIR bootstrap=GITDIR bcc=GITDIR
#
# Each NAME=GITDIR is a git directory (a bare mirror or a clone's .git) whose HEAD is exported.
# Known layouts: tutorial (xdp-project/xdp-tutorial), katran (facebookincubator/katran),
# examples (xdp-project/bpf-examples), bootstrap (libbpf/libbpf-bootstrap; its vmlinux.h is a
# submodule, so bcc's libbpf-tools/x86/vmlinux.h is used: pass bcc=GITDIR too). The C twins
# written for this repository (bench/compiler/zoo/*/*.bpf.c: reductions of an original that
# does not build standalone) are built into .zoo/obj/ as well. Objects that clang rejects are
# listed. Needs clang-19, libbpf-dev headers, git.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=build-zoo
# shellcheck source=lib/toolchain.sh
. "$ROOT/scripts/lib/toolchain.sh"
require_toolchain
ZOO="$ROOT/.zoo"
mkdir -p "$ZOO/src" "$ZOO/obj"
[ "$#" -gt 0 ] || die "usage: $0 tutorial=GITDIR katran=GITDIR examples=GITDIR bootstrap=GITDIR bcc=GITDIR"

declare -A DIRS=()
for arg in "$@"; do
  name="${arg%%=*}" dir="${arg#*=}"
  [ -d "$dir" ] || die "$dir is not a directory"
  rm -rf "${ZOO:?}/src/$name"
  mkdir -p "$ZOO/src/$name"
  case "$name" in
    tutorial) paths=(common basic01-xdp-pass basic02-prog-by-name basic03-map-counter basic04-pinning-maps packet02-rewriting packet-solutions) ;;
    katran) paths=(katran/lib/bpf katran/lib/linux_includes) ;;
    examples) paths=(headers preserve-dscp tc-policy) ;;
    bootstrap) paths=(examples/c) ;;
    bcc) paths=(libbpf-tools/x86/vmlinux.h libbpf-tools/x86/vmlinux_614.h) ;;
    *) die "unknown layout $name (known: tutorial, katran, examples, bootstrap, bcc)" ;;
  esac
  git --git-dir="$dir" archive --format=tar HEAD -- "${paths[@]}" | tar -x -C "$ZOO/src/$name"
  DIRS[$name]="$ZOO/src/$name"
done

# Shims, not sources: <gnu/stubs-32.h> is what glibc's headers ask for under -target bpf
# (Debian ships it only with libc6-dev-i386; it declares nothing a BPF program uses), and
# bpf-examples' <xdp/parsing_helpers.h> lives in the xdp-tools submodule, which the mirror
# lacks: the xdp-tutorial's common/parsing_helpers.h is the same helpers (parse_ethhdr with two
# VLAN levels, parse_iphdr, parse_ip6hdr), so it stands in (tutorial=GITDIR needed).
mkdir -p "$ZOO/include/gnu" "$ZOO/include/xdp"
: >"$ZOO/include/gnu/stubs-32.h"
cat >"$ZOO/include/xdp/parsing_helpers.h" <<'SHIM'
#include <bpf/bpf_endian.h>
#include "../../src/tutorial/common/parsing_helpers.h"
SHIM

failed=()
build() { # build OUTNAME SOURCE INCLUDE...
  local name="$1" out="$ZOO/obj/$1.o" src="$2"
  shift 2
  local inc=() d
  for d in "$@"; do inc+=(-I"$d"); done
  if "$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wno-everything "${inc[@]}" \
    -I"$ZOO/include" -I"/usr/include/$MULTIARCH" -c "$src" -o "$out" 2>"$out.log"; then
    rm -f "$out.log"
    echo "  CLANG ${out#"$ROOT"/}"
  else
    rm -f "$out"
    failed+=("$name (${out#"$ROOT"/}.log)")
  fi
}

if [ -n "${DIRS[tutorial]:-}" ]; then
  t="${DIRS[tutorial]}"
  build tutorial-basic01 "$t/basic01-xdp-pass/xdp_pass_kern.c" "$t/common"
  build tutorial-basic02 "$t/basic02-prog-by-name/xdp_prog_kern.c" "$t/common"
  build tutorial-basic03 "$t/basic03-map-counter/xdp_prog_kern.c" "$t/basic03-map-counter" "$t/common"
  build tutorial-basic04 "$t/basic04-pinning-maps/xdp_prog_kern.c" "$t/basic03-map-counter" "$t/common"
  build tutorial-packet02 "$t/packet02-rewriting/xdp_prog_kern.c" "$t/common"
  build tutorial-packet02s "$t/packet-solutions/xdp_prog_kern_02.c" "$t/common"
  build tutorial-packet03s "$t/packet-solutions/xdp_prog_kern_03.c" "$t/common"
fi
if [ -n "${DIRS[katran]:-}" ]; then
  k="${DIRS[katran]}"
  build katran-pktcntr "$k/katran/lib/bpf/xdp_pktcntr.c" "$k/katran/lib/linux_includes" "$k"
fi
if [ -n "${DIRS[examples]:-}" ]; then
  e="${DIRS[examples]}"
  build examples-preserve-dscp "$e/preserve-dscp/preserve_dscp_kern.c" "$e/headers"
  build examples-tc-policy "$e/tc-policy/tc_txq_policy_kern.c" "$e/headers"
fi
if [ -n "${DIRS[bootstrap]:-}" ]; then
  [ -n "${DIRS[bcc]:-}" ] || die "bootstrap needs bcc's vmlinux.h: pass bcc=GITDIR too"
  b="${DIRS[bootstrap]}/examples/c"
  build bootstrap-tc "$b/tc.bpf.c" "$b" "${DIRS[bcc]}/libbpf-tools/x86"
  build bootstrap-sockfilter "$b/sockfilter.bpf.c" "$b" "${DIRS[bcc]}/libbpf-tools/x86"
fi
# C twins written for this repository (reductions of originals that do not build standalone)
for src in "$ROOT"/bench/compiler/zoo/*/programs/*.bpf.c; do
  [ -e "$src" ] || continue
  build "own-$(basename "$src" .bpf.c)" "$src" "$(dirname "$src")"
done
echo "built $(find "$ZOO/obj" -name '*.o' | wc -l) objects into .zoo/obj"
if [ "${#failed[@]}" -gt 0 ]; then echo "clang failed on: ${failed[*]}"; fi
