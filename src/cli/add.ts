// `tsbpf add KIND NAME`: add a probe of a template kind to the project in the current directory:
// NAME.ts (self-contained: its event struct included) and its entry in package.json's
// "tsbpf.probes", so `tsbpf build` (npm run build) builds it to target/bpf-programs/NAME/NAME.elf.
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pc from "picocolors";
import { UsageError } from "./usage-error.js";
import { KIND_TEMPLATES, standaloneProbe, type TemplateName } from "./templates/kinds.js";
import { programIdent, templateNamed } from "./new.js";

/** How `tsbpf load` attaches each kind (the flags the section cannot say). */
const LOAD_FLAGS: Record<TemplateName, string> = {
  xdp: " -i lo",
  tc: " -i lo",
  tracepoint: "",
  kprobe: "",
  uprobe: " -b libc -s mkdir",
  fentry: "",
  "perf-event": " --sample-freq 99 --interval 1",
  cgroup: " -c /sys/fs/cgroup",
};

const FILE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface AddResult {
  file: string;
  elf: string;
  load: string;
}

/** Writes `<dir>/<name>.ts` and registers it; returns what was written and how to load it. */
export async function addProbe(kindArg: string, name: string, dir = "."): Promise<AddResult> {
  const kind = templateNamed(kindArg);
  if (!FILE_NAME.test(name))
    throw new UsageError(
      `invalid probe name ${JSON.stringify(name)}: use lower-case letters, digits, '-' and '_', starting with a letter or digit`,
      2,
    );
  const root = resolve(dir);
  const pkgPath = join(root, "package.json");
  if (!existsSync(pkgPath))
    throw new UsageError(
      `no package.json in ${root}: run tsbpf add in a project's directory (tsbpf new NAME makes one)`,
    );
  const file = `${name}.ts`;
  if (existsSync(join(root, file)))
    throw new UsageError(`${file} already exists in ${root}; pick another name`);
  const text = readFileSync(pkgPath, "utf8");
  let pkg: { tsbpf?: { probes?: unknown } } & Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch (e) {
    throw new UsageError(`${pkgPath} is not valid JSON: ${(e as Error).message}`);
  }
  const listed = pkg.tsbpf?.probes;
  if (
    listed !== undefined &&
    (!Array.isArray(listed) || !listed.every((p) => typeof p === "string"))
  )
    throw new UsageError(`${pkgPath}: "tsbpf.probes" must be an array of file paths`);
  // without a list, tsbpf build builds probe.ts: keep building it beside the new probe
  const probes =
    (listed as string[] | undefined) ?? (existsSync(join(root, "probe.ts")) ? ["probe.ts"] : []);
  pkg.tsbpf = { ...(pkg.tsbpf ?? {}), probes: [...probes, file] };

  await writeFile(
    join(root, file),
    standaloneProbe(KIND_TEMPLATES[kind], programIdent(name), kind),
  );
  const indent = /^(\s+)"/m.exec(text)?.[1] ?? "  ";
  await writeFile(pkgPath, JSON.stringify(pkg, null, indent) + "\n");
  const elf = `target/bpf-programs/${name}/${name}.elf`;
  return { file, elf, load: `sudo npx tsbpf load${LOAD_FLAGS[kind]} ${elf}` };
}

export async function runAdd(kind: string, name: string): Promise<void> {
  const r = await addProbe(kind, name);
  console.log(`${pc.green("Added")} ${r.file} (${KIND_TEMPLATES[templateNamed(kind)].summary}); listed in package.json "tsbpf.probes"
Next:
  npm run build            # builds every listed probe: ${r.file} → ${r.elf}
  ${r.load}`);
}
