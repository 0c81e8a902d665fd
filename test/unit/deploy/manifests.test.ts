// deploy/kubernetes/tsbpf-agent.yaml validated offline against the Kubernetes schema (the
// OpenAPI schema compiled into ajv validators by the kubernetes-models package: no cluster, no
// network), plus what the schema cannot say: least privilege, the mounts an eBPF agent needs,
// the config it ships passing the exporter's own checker, every CLI flag it passes existing, and
// the Containerfile's runtime stage carrying no compiler and running what the DaemonSet expects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { checkConfig } from "../../../src/export/config.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const MANIFEST = join(root, "deploy/kubernetes/tsbpf-agent.yaml");
const CONTAINERFILE = join(root, "deploy/Containerfile");

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/DaemonSet": DaemonSet,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function docs(): Doc[] {
  return parseAllDocuments(readFileSync(MANIFEST, "utf8")).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS();
  });
}

test("every object of the manifest is valid against the Kubernetes schema", () => {
  const all = docs();
  assert.deepEqual(
    all.map((d) => d.kind),
    ["Namespace", "ServiceAccount", "ConfigMap", "DaemonSet"],
  );
  for (const d of all) {
    const Model = MODELS[`${d.apiVersion}/${d.kind}`];
    assert.ok(Model, `no schema for ${d.apiVersion} ${d.kind}`);
    new Model(d as never).validate(); // throws naming the path at fault
  }
});

test("the validator catches a broken manifest (it is not a no-op)", () => {
  const ds = docs().find((d) => d.kind === "DaemonSet");
  ds.spec.template.spec.containers[0].ports[0].containerPort = "9435";
  assert.throws(() => new DaemonSet(ds).validate(), /containerPort must be integer/);
  const noSelector = docs().find((d) => d.kind === "DaemonSet");
  delete noSelector.spec.selector;
  assert.throws(() => new DaemonSet(noSelector).validate(), /selector/);
});

test("least privilege: not privileged, capabilities BPF, PERFMON, NET_ADMIN only, bpffs and tracefs mounted", () => {
  const ds = docs().find((d) => d.kind === "DaemonSet");
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostPID ?? false, false);
  assert.equal(pod.hostIPC ?? false, false);
  assert.equal(pod.automountServiceAccountToken, false);
  const [c] = pod.containers;
  const sc = c.securityContext;
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities.drop, ["ALL"]);
  assert.deepEqual([...sc.capabilities.add].sort(), ["BPF", "NET_ADMIN", "PERFMON"]);
  assert.notEqual(sc.seccompProfile?.type, "Unconfined");
  const mounts = new Map(c.volumeMounts.map((m: Doc) => [m.mountPath, m.name]));
  const volumes = new Map(pod.volumes.map((v: Doc) => [v.name, v]));
  for (const path of ["/sys/fs/bpf", "/sys/kernel/tracing"]) {
    const v = volumes.get(mounts.get(path)) as Doc;
    assert.equal(v?.hostPath?.path, path, `${path} comes from the host`);
  }
  // Every host path is one of those two: nothing else of the host is shared.
  for (const v of pod.volumes)
    if (v.hostPath) assert.ok(["/sys/fs/bpf", "/sys/kernel/tracing"].includes(v.hostPath.path));
  assert.equal(c.livenessProbe.httpGet.path, "/healthz");
});

test("the shipped exporter config passes the exporter's checker and is the example's", () => {
  const cm = docs().find((d) => d.kind === "ConfigMap");
  const fromManifest = checkConfig(
    parseAllDocuments(cm.data["exporter.yaml"])[0]!.toJS(),
    "ConfigMap",
  );
  const example = checkConfig(
    parseAllDocuments(readFileSync(join(root, "examples/fleet/exporter.yaml"), "utf8"))[0]!.toJS(),
  );
  assert.deepEqual(fromManifest, example);
});

test("every flag the DaemonSet and the Containerfile pass exists in `tsbpf agent`", () => {
  const help = spawnSync(process.execPath, [join(root, "dist/src/cli/bin.js"), "agent", "--help"], {
    encoding: "utf8",
  });
  assert.equal(help.status, 0, help.stderr);
  const ds = docs().find((d) => d.kind === "DaemonSet");
  const cmdLine = /^CMD (\[.*\])$/m.exec(readFileSync(CONTAINERFILE, "utf8"));
  assert.ok(cmdLine);
  const args: string[] = [...ds.spec.template.spec.containers[0].args, ...JSON.parse(cmdLine[1]!)];
  for (const a of args.filter((x) => x.startsWith("-")))
    assert.match(help.stdout, new RegExp(`(^|[ ,])${a}\\b`, "m"), a);
  // The env var the args name is defined.
  const env = new Set(ds.spec.template.spec.containers[0].env.map((e: Doc) => e.name));
  for (const a of args) for (const m of a.matchAll(/\$\((\w+)\)/g)) assert.ok(env.has(m[1]), m[1]);
});

test("the Containerfile's runtime stage has no compiler and runs the agent from the build stage", () => {
  const text = readFileSync(CONTAINERFILE, "utf8");
  const stages = text.split(/^FROM /m).slice(1);
  assert.equal(stages.length, 2);
  const runtime = stages[1]!;
  assert.match(runtime, /distroless\/nodejs/);
  assert.doesNotMatch(runtime, /^RUN /m, "nothing is installed or built in the runtime image");
  assert.match(runtime, /COPY --from=build \/app \/app/);
  assert.match(
    runtime,
    /ENTRYPOINT \["\/nodejs\/bin\/node", "\/app\/dist\/src\/cli\/bin\.js", "agent"\]/,
  );
  // The probe is compiled in the build stage by tsbpf itself (no clang anywhere).
  assert.match(stages[0]!, /bin\.js build "\$PROBE"/);
  assert.doesNotMatch(text, /clang|llvm/);
});
