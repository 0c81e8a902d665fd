// `tsbpf new NAME`: create ./NAME with a probe, the struct it shares with user space, a loader,
// package.json and tsconfig.json — a project that builds and loads as generated.
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import pc from "picocolors";
import { UsageError } from "./usage-error.js";
import { projectFiles } from "./templates/project.js";
import { KIND_TEMPLATES, TEMPLATES, templateFiles, type TemplateName } from "./templates/kinds.js";
import { bug } from "../bug.js";

const require = createRequire(import.meta.url);

/** npm's rules for a package name we also use as a directory: lower case, no scope. */
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** The root of this tsbpf package (holds its package.json). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw bug("cannot find tsbpf's package.json above the CLI's own module");
    dir = up;
  }
  return dir;
}

/**
 * How the new project depends on tsbpf: the published version when this tsbpf was installed
 * from npm, else (running from a checkout) a `file:` link to the checkout, so what is built is
 * what the user is running. TSBPF_DEPENDENCY overrides both.
 */
function tsbpfDependency(root: string, version: string): string {
  const override = process.env.TSBPF_DEPENDENCY;
  if (override) return override;
  const real = realpathSync(root);
  return real.split(sep).includes("node_modules") ? `^${version}` : `file:${real}`;
}

/** `my-probe` → `my_probe`, `2fast` → `_2fast`: the program's name must be a C identifier. */
export function programIdent(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

/** The template a `--template` value names, or a UsageError listing them. */
export function templateNamed(t: string): TemplateName {
  if ((TEMPLATES as readonly string[]).includes(t)) return t as TemplateName;
  throw new UsageError(
    `unknown template ${JSON.stringify(t)}: use one of ${TEMPLATES.join(", ")}`,
    2,
  );
}

export async function scaffold(name: string, template: TemplateName = "xdp"): Promise<void> {
  const dir = resolve(name);
  const project = basename(dir);
  if (!NAME.test(project) || project.length > 214)
    throw new UsageError(
      `invalid project name ${JSON.stringify(project)}: use lower-case letters, digits, '-', '_' ` +
        "and '.', starting with a letter or digit",
      2,
    );
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new UsageError(`${name} already exists and is not empty; pick another name`);

  const root = packageRoot();
  const pkg = require(join(root, "package.json")) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const ident = programIdent(project);
  const files = projectFiles({
    name: project,
    ident,
    tsbpf: tsbpfDependency(root, pkg.version),
    typescript: pkg.dependencies.typescript ?? "5.9",
    typesNode: pkg.devDependencies?.["@types/node"] ?? "^20.0.0",
  });
  // the xdp project is projectFiles' own; other templates replace its probe, event and loader
  if (template !== "xdp")
    Object.assign(files, templateFiles(template, KIND_TEMPLATES[template], project, ident));
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);

  const elf = `target/bpf-programs/${project}/${project}.elf`;
  console.log(`${pc.green("Created")} ${project} in ${dir}: ${Object.keys(files).join(", ")}`);
  if (template !== "xdp") {
    const t = KIND_TEMPLATES[template];
    console.log(`
${t.summary}.
Next:
  cd ${name}
  npm install
  npm run build            # tsbpf build: probe.ts → ${elf}; tsc: loader.ts → dist/loader.js
  ${t.run.replaceAll("ELF", elf).replaceAll("\n", "\n  ")}`);
    return;
  }
  console.log(`
Next:
  cd ${name}
  npm install
  npm run build            # tsbpf build: probe.ts → ${elf}; tsc: loader.ts → dist/loader.js
  sudo npx tsbpf load -i lo ${elf}
  sudo node dist/loader.js lo ${elf}
(lo, the loopback interface, is safe to try on; npx tsc --noEmit type-checks everything)`);
}
