// Paths of the built fixtures (scripts/build-fixtures.sh), building them once when missing.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
let built = false;

/** Absolute path of test/fixtures/obj/<name>, running the fixture build if it is missing. */
export function fixture(name: string): string {
  const p = `${root}test/fixtures/obj/${name}`;
  if (!existsSync(p) && !built) {
    built = true;
    execFileSync("bash", [`${root}scripts/build-fixtures.sh`], { stdio: "ignore" });
  }
  if (!existsSync(p)) throw new Error(`fixture ${p} missing; run scripts/build-fixtures.sh`);
  return p;
}
