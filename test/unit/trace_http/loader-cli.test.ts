// The trace_http loader's command line: usage errors exit 2 with the usage, a missing
// interface or file is one line naming it. None of these reach the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const LOADER = fileURLToPath(new URL("../../../examples/trace_http/loader.js", import.meta.url));
const loader = (...args: string[]) =>
  spawnSync(process.execPath, [LOADER, ...args], { encoding: "utf8" });

test("loader: wrong arguments print the usage and exit 2", () => {
  for (const args of [[], ["lo"], ["lo", "a.elf", "extra"], ["-h"], ["--help", "x"]]) {
    const r = loader(...args);
    assert.equal(r.status, 2, `loader ${args.join(" ")}`);
    assert.match(r.stderr, /^usage: loader IFACE ELF\n/);
    assert.equal(r.stdout, "");
  }
});

test("loader: a missing interface or file is one line naming it, exit 1", () => {
  let r = loader("no-such-if0", "x.elf");
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "error: no network interface named no-such-if0 (see `ip link`)\n");
  r = loader("lo", "/nonexistent/trace_http.elf");
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    "error: no such file: /nonexistent/trace_http.elf (build the probe with `tsbpf build`)\n",
  );
});
