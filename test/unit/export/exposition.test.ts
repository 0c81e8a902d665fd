// The text /metrics serves, from collected series (no kernel): prom-client writes the format;
// these check what the exporter adds (names, `le`, `_sum`/`_count`, `# UNIT`, content types,
// one map read per scrape) and that label values from the kernel are escaped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Exposition, wantsOpenMetrics, MetricsServer } from "../../../src/export/prometheus.js";
import type { Collected } from "../../../src/export/collector.js";
import type { MetricSpec } from "../../../src/export/spec.js";

const specs: MetricSpec[] = [
  { type: "counter", name: "pkts", help: "packets \\ seen\nby comm", map: "m" },
  {
    type: "histogram",
    name: "size_bytes",
    unit: "bytes",
    help: "sizes",
    map: "m",
    bucket: "b",
    buckets: { type: "log2", max: 2 },
  },
];

function data(reads: { n: number }): Collected[] {
  reads.n++;
  return [
    { spec: specs[0] as never, series: [{ labels: { comm: 'a"b\\c\nd' }, value: 5 }] },
    {
      spec: specs[1] as never,
      series: [
        { labels: { proto: "udp" }, bounds: [1, 3, 7], counts: [1, 0, 2, 4], count: 7, sum: 60 },
      ],
    },
  ];
}

test("Prometheus text: _total, escaped labels and HELP, cumulative le buckets, _sum and _count", async () => {
  const reads = { n: 0 };
  const e = await Exposition.create(specs, () => data(reads));
  const { contentType, body } = await e.render(false);
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(reads.n, 1, "one read of the maps per scrape");
  const lines = body.split("\n");
  assert.ok(lines.includes("# HELP pkts_total packets \\\\ seen\\nby comm"));
  assert.ok(lines.includes("# TYPE pkts_total counter"));
  assert.ok(lines.includes('pkts_total{comm="a\\"b\\\\c\\nd"} 5'));
  assert.ok(lines.includes("# TYPE size_bytes histogram"));
  for (const l of [
    'size_bytes_bucket{proto="udp",le="1"} 1',
    'size_bytes_bucket{proto="udp",le="3"} 1',
    'size_bytes_bucket{proto="udp",le="7"} 3',
    'size_bytes_bucket{proto="udp",le="+Inf"} 7',
    'size_bytes_sum{proto="udp"} 60',
    'size_bytes_count{proto="udp"} 7',
  ])
    assert.ok(lines.includes(l), l);
});

test("OpenMetrics: family names, # UNIT, # EOF", async () => {
  const e = await Exposition.create(specs, () => data({ n: 0 }));
  const { contentType, body } = await e.render(true);
  assert.equal(contentType, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  assert.match(body, /^# TYPE pkts counter\npkts_total\{/m);
  assert.match(body, /^# TYPE size_bytes histogram\n# UNIT size_bytes bytes\n/m);
  assert.ok(body.endsWith("# EOF\n"));
  // Prometheus' own Accept header picks OpenMetrics; curl's does not.
  assert.ok(
    wantsOpenMetrics(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    ),
  );
  assert.ok(!wantsOpenMetrics("*/*"));
  assert.ok(!wantsOpenMetrics(undefined));
});

test("/metrics, /healthz and a failing read over HTTP on loopback", async () => {
  let fail = false;
  let healthy = true;
  const e = await Exposition.create(specs, () => {
    if (fail) throw new Error("map is gone");
    return data({ n: 0 });
  });
  const errors: unknown[] = [];
  const s = await MetricsServer.start(
    { host: "127.0.0.1", port: 0 },
    { exposition: () => e, healthy: () => healthy, onError: (x) => errors.push(x) },
  );
  try {
    const base = `http://${s.address}`;
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /^pkts_total/m);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    fail = true;
    const bad = await fetch(`${base}/metrics`);
    assert.equal(bad.status, 500);
    assert.match(await bad.text(), /collecting metrics failed: map is gone/);
    assert.equal(errors.length, 1);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: "POST" })).status, 405);
  } finally {
    await s.close();
  }
});
