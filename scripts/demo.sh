#!/usr/bin/env bash
# make demo: build the TypeScript HTTP tracer and run it end to end in private namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces, XDP)" >&2; exit 1; }
ELF=${DEMO_ELF:-}
if [ -z "$ELF" ]; then
  # One build: no build server left running after the demo (docs/cli.md).
  TSBPF_SERVER=0 node dist/src/cli/bin.js build examples/trace_http/probe.ts
  ELF=target/bpf-programs/trace_http/trace_http.elf
fi
exec node dist/examples/trace_http/demo.js "$ELF"
