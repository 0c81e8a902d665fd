#!/usr/bin/env bash
# Mount the pseudo file systems eBPF work needs (bpffs for pins, tracefs for tracepoints/uprobes).
# Idempotent. Skips quietly when not root (kernel tests will then report why they cannot run).
set -uo pipefail
[ "$(id -u)" -eq 0 ] || exit 0
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || echo "warning: cannot mount bpffs on /sys/fs/bpf" >&2
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || echo "warning: cannot mount tracefs" >&2
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
exit 0
