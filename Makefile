# tsbpf — the two commands a user needs are `make demo` and `make test`.
# Both install what they need first (Debian packages, npm packages, mounts).
SHELL := /bin/bash
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross: the arm64 prebuilt binaries (scripts/prebuilds.sh);
# qemu-user-static and libstdc++6-arm64-cross run the arm64 build client and an arm64 Node with
# the arm64 addon in test/kernel/e2e/packed-install.test.ts. prometheus: the server the fleet test
# (test/kernel/export/fleet.test.ts) scrapes the agents with and queries with PromQL.
APT_PACKAGES := clang-19 llvm-19 libbpf-dev bpftool iproute2 iputils-ping gcc libc6-dev make python3 curl jq systemtap-sdt-dev \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static libstdc++6-arm64-cross prometheus
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all deps apt npm build prebuilds pack fixtures lint test test-unit test-kernel demo bench bench-compiler clean kernel-setup test-kernels test-vm

all: build

deps: apt npm kernel-setup

apt:
	@scripts/ensure-apt.sh $(APT_PACKAGES)

npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json binding.gyp native/*.c
	npm ci --no-audit --no-fund
	@touch $@

kernel-setup:
	@scripts/kernel-setup.sh

build: npm
	npm run build

# The Node-API binaries npm pack ships (prebuilds/linux-x64, prebuilds/linux-arm64), and the
# package tarball itself (npm pack runs scripts/prebuilds.sh as its prepack step).
prebuilds: apt npm
	npm run prebuilds

pack: apt build
	npm pack

fixtures: apt
	scripts/build-fixtures.sh

lint: npm
	npm run lint

test-unit: build
	npm run test:unit

test-kernel: deps build fixtures
	npm run test:kernel

test: deps build fixtures lint
	npm test
	@$(MAKE) --no-print-directory test-vm

VM_APT_PACKAGES := qemu-system-x86 busybox-static cpio xz-utils binutils

# The kernel suite on Debian 6.1 and 6.12 cloud kernels under qemu, and on the host; writes
# docs/kernels.md. One kernel: make test-kernels KERNEL=6.1 (VM only); some test files only:
# ONLY="kprobe/ fentry/" (a partial run: docs/kernels.md is left alone; see scripts/vm/run.js).
test-kernels: deps build fixtures
	@scripts/ensure-apt.sh $(VM_APT_PACKAGES)
	node scripts/vm/run.js $(if $(KERNEL),--kernel $(KERNEL),--host) $(foreach o,$(ONLY),--only $(o))

# The attach paths the host kernel cannot prove (kprobes are configured out, fentry is
# refused), run for real on the 6.1 and 6.12 VMs (about 4 minutes). Where qemu or the kernel
# packages cannot be had it says so and passes, except under CI=true, where it fails.
VM_SMOKE := kprobe/ fentry/ compiler/kernel-types compiler/kernel-array loader/kfunc-module
test-vm: deps build fixtures
	@scripts/ensure-apt.sh $(VM_APT_PACKAGES) || [ "$$CI" != true ]
	node scripts/vm/run.js --optional --kernel 6.1,6.12 $(foreach o,$(VM_SMOKE),--only $(o))

demo: deps build fixtures
	scripts/demo.sh

bench: deps build fixtures
	scripts/build-bench-c.sh && node dist/bench/run.js

# tsbpf-compiled probes vs clang-19 -O2 on the same programs (bench/compiler/README.md)
bench-compiler: deps build
	node dist/bench/compiler/run.js

clean:
	rm -rf dist build prebuilds target test/fixtures/obj/*.o
