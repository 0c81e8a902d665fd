# Shared by the C build scripts (source it; it defines, it does not run anything):
# the compilers, the checks that they and libbpf's headers exist, the multiarch include
# directory, and the freshness test of incremental builds.
# The sourcing script sets SCRIPT_NAME first; it prefixes every error.

TOOLCHAIN_SH="${BASH_SOURCE[0]}" # an input of every output: editing it rebuilds
CLANG="${CLANG:-clang-19}"
CC="${CC:-gcc}"

die() {
  echo "${SCRIPT_NAME:-build}: $*" >&2
  exit 1
}

# require_toolchain : clang, a host C compiler and libbpf's headers are present, or die naming
# the missing one and how to get it. Sets MULTIARCH: linux/bpf.h includes <asm/types.h>,
# which Debian keeps under /usr/include/<multiarch>, and -target bpf does not search it.
require_toolchain() {
  command -v "$CLANG" >/dev/null || die "$CLANG not found; install it (apt-get install clang-19) or set CLANG=<path to clang>"
  command -v "$CC" >/dev/null || die "$CC not found; install gcc (apt-get install gcc) or set CC=<compiler>"
  local h
  for h in bpf_helpers.h libbpf.h; do
    [ -f "/usr/include/bpf/$h" ] || die "libbpf headers missing (/usr/include/bpf/$h); apt-get install libbpf-dev"
  done
  MULTIARCH="$("$CC" -print-multiarch 2>/dev/null || true)"
  [ -n "$MULTIARCH" ] || MULTIARCH="$(uname -m)-linux-gnu"
}

# up_to_date OUTPUT INPUT... : true when OUTPUT exists and is newer than every INPUT
# (a missing INPUT counts as newer).
up_to_date() {
  local out="$1" dep
  shift
  [ -e "$out" ] || return 1
  for dep in "$@"; do
    [ -e "$dep" ] || return 1
    [ "$dep" -nt "$out" ] && return 1
  done
  return 0
}
