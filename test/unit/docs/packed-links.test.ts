// Every relative link in a markdown file of the npm package resolves inside the package: the
// README and docs/ are read from node_modules/tsbpf and on the npm site, where the rest of the
// repository (test/, bench/, examples/) does not exist. The packed file list comes from
// `npm pack --dry-run --json`, so it is what `npm publish` would ship. Links to a heading
// (`file.md#anchor`) must name a heading of that file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** The files `npm pack` would put in the tarball, relative to the package root. */
function packedFiles(): Set<string> {
  const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as [{ files: { path: string }[] }];
  return new Set(pack.files.map((f) => f.path));
}

/** Markdown without fenced code blocks and inline code spans (links there are not links). */
function prose(md: string): string {
  return md.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");
}

function anchors(md: string): Set<string> {
  const out = new Set<string>();
  for (const m of md.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").matchAll(/^#{1,6} (.+)$/gm))
    out.add(slug(m[1]!.trim()));
  return out;
}

test("every packed source map's sources are packed too", () => {
  const files = packedFiles();
  const maps = [...files].filter((f) => f.endsWith(".map"));
  const missing: string[] = [];
  for (const map of maps) {
    const { sources, sourceRoot } = JSON.parse(readFileSync(join(root, map), "utf8")) as {
      sources: string[];
      sourceRoot?: string;
    };
    for (const src of sources) {
      const resolved = normalize(join(dirname(map), sourceRoot ?? "", src));
      if (!files.has(resolved)) missing.push(`${map}: ${src}`);
    }
  }
  assert.deepEqual(missing, [], "map sources missing from the package");
});

test("slug: GitHub's heading anchors", () => {
  assert.equal(slug("Where `tracePrintk` output goes"), "where-traceprintk-output-goes");
  assert.equal(slug("tsbpf new NAME"), "tsbpf-new-name");
  assert.equal(slug("tsbpf build [ENTRY...] [-o DIR]"), "tsbpf-build-entry--o-dir");
});

test("every relative link in the packed markdown resolves to a packed file", () => {
  const files = packedFiles();
  const markdown = [...files].filter((f) => f.endsWith(".md"));
  assert.ok(markdown.includes("README.md") && markdown.includes("docs/running.md"), "packed docs");
  const broken: string[] = [];
  let checked = 0;
  for (const file of markdown) {
    const text = readFileSync(join(root, file), "utf8");
    for (const m of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      const [path, anchor] = target.split("#") as [string, string | undefined];
      const resolved = path === "" ? file : normalize(join(dirname(file), path));
      const isDir = [...files].some((f) => f.startsWith(`${resolved}/`));
      if (!files.has(resolved) && !isDir) {
        broken.push(`${file}: ${target} (${resolved} is not in the package)`);
        continue;
      }
      if (anchor && resolved.endsWith(".md")) {
        const heads = anchors(readFileSync(join(root, resolved), "utf8"));
        if (!heads.has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, [], "broken links");
  assert.ok(checked >= 20, `only ${checked} relative links found`);
});
