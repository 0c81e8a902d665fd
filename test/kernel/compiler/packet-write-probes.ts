// The packet-writing probes of docs/probe-language.md, taken from the document itself (the
// code block after `<!-- example: NAME -->`), so the tests run exactly what the docs show.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DOC = fileURLToPath(new URL("../../../../docs/probe-language.md", import.meta.url));

export function docExample(name: string, kind = "example"): string {
  const md = readFileSync(DOC, "utf8");
  const m = new RegExp(`<!-- ${kind}: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(md);
  if (!m) throw new Error(`docs/probe-language.md has no example ${name}`);
  return m[1]!;
}

export const REFLECTOR = docExample("xdp-reflector");
export const TC_PORT = docExample("tc-port");
export const ARP_RESPONDER = docExample("xdp-arp");
/** The body of a program (statements), shown without its surroundings. */
export const VLAN_POP = docExample("vlan-pop", "example-body");
