#!/usr/bin/env bash
# Builds the test VM's initramfs (newc cpio, uncompressed: the kernel unpacks it faster than
# it could inflate it under TCG). Usage:
#   scripts/vm/initramfs.sh userland OUT.cpio            busybox, node, tools + libs, the project
#   scripts/vm/initramfs.sh modules KERNEL_ROOT OUT.cpio MODULE...   one kernel's modules (deps first)
#                                                            and its /boot/config-*
#   scripts/vm/initramfs.sh env OUT.cpio KEY=VALUE...    /etc/tsbpf-vm.env for one run
# The kernel accepts concatenated archives, so the runner builds the userland once and appends
# the per-kernel and per-run parts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)

pack() { # DIR OUT
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$2.tmp"
  mv "$2.tmp" "$2"
}

# Copy an executable and every shared library ldd names, keeping their paths.
carry() { # ROOT BINARY
  local root=$1 bin
  bin=$(command -v "$2") || { echo "initramfs: $2 is not installed on the host" >&2; exit 1; }
  cp -L --parents "$bin" "$root"
  { ldd "$bin" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
  done
}

userland() {
  local out=$1 root
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/modules}
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in $(busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  # What the kernel tests spawn: iproute2, bpftool, iputils ping, binutils nm, util-linux taskset
  # and mountpoint (scripts/kernel-setup.sh), coreutils env (scripts say #!/usr/bin/env bash).
  for tool in node bash dash ip tc bpftool ping nm taskset ldconfig mountpoint env; do carry "$root" "$tool"; done
  # /bin/sh is dash, as on Debian: busybox sh runs its own applets before PATH, so `sh -c ping`
  # would get busybox ping, whose output differs from the iputils ping the tests parse.
  ln -sf /usr/bin/dash "$root/bin/sh"
  printf '%s\n' /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu >"$root/etc/ld.so.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  printf '127.0.0.1 localhost tsbpf-vm\n::1 localhost\n' >"$root/etc/hosts"
  # The built project: compiled tests, native addon, runtime node_modules, fixtures.
  mkdir -p "$root/tsbpf"
  tar -C "$project" --exclude=./.git --exclude=./build/vm --exclude=./node_modules/.cache \
    -cf - . | tar -C "$root/tsbpf" -xf -
  cp "$here/init" "$root/init"
  chmod 755 "$root/init"
  pack "$root" "$out"
}

modules() {
  local kroot=$1 out=$2 root dir m f
  shift 2
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  dir=$(echo "$kroot"/lib/modules/*)
  mkdir -p "$root/lib/modules"
  : >"$root/lib/modules/load-order"
  add() { # MODULE: its dependencies first (modinfo "depends="), each once
    local name=$1 path deps d
    grep -qx "$name" "$root/lib/modules/load-order" && return 0
    path=$(find "$dir/kernel" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" | head -n1)
    if [ -z "$path" ]; then
      # built into this kernel: nothing to load
      grep -q "/$name.ko" "$dir/modules.builtin" && return 0
      echo "initramfs: module $name not found in $dir" >&2; exit 1
    fi
    case $path in
      *.xz) xz -dc "$path" >"$root/lib/modules/$name.ko" ;;
      *.zst) zstd -qdc "$path" >"$root/lib/modules/$name.ko" ;;
      *) cp "$path" "$root/lib/modules/$name.ko" ;;
    esac
    deps=$(strings "$root/lib/modules/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' ')
    for d in $deps; do add "${d//-/_}"; done
    echo "$name" >>"$root/lib/modules/load-order"
  }
  for m in "$@"; do add "$m"; done
  # The build configuration, where tests read which features the kernel should have.
  mkdir -p "$root/boot"
  cp "$kroot"/boot/config-* "$root/boot/"
  pack "$root" "$out"
}

envfile() {
  local out=$1 root kv
  shift
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root/etc"
  for kv in "$@"; do printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"; done >"$root/etc/tsbpf-vm.env"
  pack "$root" "$out"
}

case ${1:-} in
  userland) userland "$2" ;;
  modules) shift; modules "$@" ;;
  env) shift; envfile "$@" ;;
  *) echo "usage: $0 userland OUT | modules KERNEL_ROOT OUT MODULE... | env OUT KEY=VALUE..." >&2; exit 2 ;;
esac
