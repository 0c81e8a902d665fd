// The files `tsbpf new NAME` writes: an XDP probe that reports every IPv4 TCP/UDP packet it
// sees, the struct both sides share, a loader that prints one line per packet, and the
// package/tsconfig to build them. test/kernel/cli/new.test.ts builds and loads them as
// written, so these strings cannot rot unnoticed.

export interface ProjectNames {
  /** the project (directory and npm package) name */
  name: string;
  /** `name` as a C identifier: the program's name in the object */
  ident: string;
  /** the `tsbpf` dependency specifier, e.g. `^0.1.0` or `file:/path/to/tsbpf` */
  tsbpf: string;
  /** the TypeScript version range the loader builds with */
  typescript: string;
  /** the @types/node version range */
  typesNode: string;
}

export function projectFiles(n: ProjectNames): Record<string, string> {
  return {
    "package.json":
      JSON.stringify(
        {
          name: n.name,
          version: "0.1.0",
          private: true,
          type: "module",
          scripts: {
            build: "tsbpf build && tsc -p .",
            start: `node dist/loader.js`,
          },
          tsbpf: { probes: ["probe.ts"] },
          dependencies: { tsbpf: n.tsbpf },
          devDependencies: { typescript: n.typescript, "@types/node": n.typesNode },
        },
        null,
        2,
      ) + "\n",

    "tsconfig.json":
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            lib: ["ES2023", "ESNext.Disposable", "ESNext.AsyncIterable"],
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            outDir: "dist",
            skipLibCheck: true,
            types: ["node"],
          },
          // probe.ts is compiled to eBPF by `tsbpf build`, not to JavaScript.
          include: ["*.ts"],
          exclude: ["probe.ts", "dist", "node_modules"],
        },
        null,
        2,
      ) + "\n",

    ".gitignore": "node_modules/\ndist/\ntarget/\n",

    "shared.ts": `// One definition of the event, used by the probe (layout, BTF) and the loader (decoding).
import { struct, be32, u16, u32, type Infer } from "tsbpf/types";

/** One packet seen by the probe. Addresses are numbers: 10.0.0.1 is 0x0a000001. */
export const Packet = struct("Packet", {
  saddr: be32,
  daddr: be32,
  sport: u16,
  dport: u16,
  /** IP protocol: 6 TCP, 17 UDP */
  protocol: u16,
  /** frame length in bytes */
  length: u16,
});
export type Packet = Infer<typeof Packet>;
`,

    "probe.ts": `// The kernel side: an XDP program, compiled to eBPF by \`tsbpf build\`.
// It reports every IPv4 TCP or UDP packet arriving on the interface, and lets it through.
import { program, map, xdp, PerfMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { Packet } from "./shared.js";

program({ license: "GPL" });

const packets = map("packets", new PerfMap(Packet, { maxEntries: 1024 }));

export const ${n.ident} = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const transport = ctx.transport();
  if (!ip || ip.version !== 4 || !transport) return XdpAction.Pass;
  const event: Packet = {
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: transport.source(),
    dport: transport.dest(),
    protocol: ip.protocol,
    length: ctx.len(),
  };
  packets.insert(ctx, event);
  return XdpAction.Pass;
});
`,

    "loader.ts": `// The user-space side: load the probe, attach it to an interface, print its events.
//   usage: node dist/loader.js IFACE ELF
import { Loader } from "tsbpf";
import { Packet } from "./shared.js";

const [iface, elf] = process.argv.slice(2);
if (!iface || !elf) {
  console.error("usage: loader IFACE ELF");
  process.exit(2);
}

const ipv4 = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
const PROTOCOLS: Record<number, string> = { 6: "TCP", 17: "UDP" };

await using loaded = await Loader.create().xdp(iface).loadFile(elf);
for (const { program } of loaded.links) console.log(\`Loaded: \${program.name}, \${program.kindLabel}\`);
process.once("SIGINT", () => loaded.close()); // ends the loop below and detaches the probe
process.once("SIGTERM", () => loaded.close());

for await (const { events, lost } of loaded.events) {
  if (lost > 0) console.error(\`lost \${lost} events\`);
  for (const raw of events) {
    const p = Packet.decode(raw);
    const proto = PROTOCOLS[p.protocol] ?? \`proto \${p.protocol}\`;
    console.log(
      \`\${proto} \${ipv4(p.saddr)}:\${p.sport} -> \${ipv4(p.daddr)}:\${p.dport} (\${p.length} bytes)\`,
    );
  }
}
`,

    "README.md": `# ${n.name}

An eBPF program written in TypeScript with [tsbpf](https://www.npmjs.com/package/tsbpf).

- \`probe.ts\` — the XDP program (kernel side), compiled to eBPF by \`tsbpf build\`
- \`shared.ts\` — the event struct, shared by the probe and the loader
- \`loader.ts\` — loads the probe, attaches it to an interface, prints each event

\`\`\`sh
npm install
npm run build        # tsbpf build (→ target/bpf-programs/${n.name}/${n.name}.elf) && tsc
sudo node dist/loader.js eth0 target/bpf-programs/${n.name}/${n.name}.elf
# or, without the loader: sudo npx tsbpf load -i eth0 target/bpf-programs/${n.name}/${n.name}.elf
\`\`\`
`,
  };
}
