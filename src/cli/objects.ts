// `tsbpf prog|map|link|net`: every eBPF object on the system, as bpftool shows them (its JSON
// keys with --json, so jq scripts carry over), map entries decoded with the map's BTF.
import type { Command } from "commander";
import { Option } from "commander";
import { UsageError } from "./usage-error.js";

type Json = { json?: boolean };

const hex = (b: Uint8Array): string[] =>
  Array.from(b, (x) => `0x${x.toString(16).padStart(2, "0")}`);
const hexText = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** JSON with bigints as plain numbers (64-bit counters stay exact, as bpftool prints them). */
async function json(v: unknown): Promise<string> {
  const { btfValueJson } = await import("../obj/btf-value.js");
  return btfValueJson(v as never);
}

function date(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Registers the inspection commands on the `tsbpf` program. */
export function registerObjectCommands(cli: Command): void {
  const ref = "id N | pinned PATH | name NAME (or just N, PATH or NAME)";

  // ---- prog ----
  const prog = cli
    .command("prog")
    .description("list and show the eBPF programs loaded in the kernel (any loader's)");
  prog
    .command("list")
    .alias("ls")
    .description("list every loaded program: id, type, name, tag, maps")
    .option("--json", "print one JSON array (bpftool's keys)")
    .action(async (opts: Json) => {
      const { listPrograms } = await import("../inspect/system.js");
      const progs = listPrograms();
      if (opts.json) console.log(await json(progs.map(progJson)));
      else for (const p of progs) console.log(progText(p));
    });
  prog
    .command("show")
    .description("show one program, with its maps and the links that attach it")
    .argument("<program...>", ref)
    .option("--json", "print JSON (bpftool's keys)")
    .action(async (args: string[], opts: Json) => {
      const { parseRef, showProgram, listLinks, listMaps } = await import("../inspect/system.js");
      const { ref: r, rest } = parseRef(args, "program");
      extra(rest);
      const p = showProgram(r);
      const maps = listMaps().filter((m) => p.mapIds.includes(m.id));
      const links = listLinks().filter((l) => l.progId === p.id);
      if (opts.json)
        console.log(
          await json({ ...progJson(p), maps: maps.map(mapJson), links: links.map(linkJson) }),
        );
      else {
        console.log(progText(p));
        for (const m of maps) console.log(`\tmap ${m.id}: ${m.type} ${m.name}`);
        for (const l of links) console.log(`\tlink ${linkText(l)}`);
      }
    });

  // ---- map ----
  const map = cli
    .command("map")
    .description(
      "list, dump and edit the eBPF maps in the kernel (any loader's), decoded with their BTF",
    );
  map
    .command("list")
    .alias("ls")
    .description("list every map: id, type, name, key/value sizes, entries")
    .option("--json", "print one JSON array (bpftool's keys)")
    .action(async (opts: Json) => {
      const { listMaps } = await import("../inspect/system.js");
      const maps = listMaps();
      if (opts.json) console.log(await json(maps.map(mapJson)));
      else for (const m of maps) console.log(mapText(m));
    });
  map
    .command("show")
    .description("show one map")
    .argument("<map...>", ref)
    .option("--json", "print JSON (bpftool's keys)")
    .action(async (args: string[], opts: Json) => {
      const { parseRef, openMap } = await import("../inspect/system.js");
      const { ref: r, rest } = parseRef(args, "map");
      extra(rest);
      using m = openMap(r);
      console.log(opts.json ? await json(mapJson(m.summary)) : mapText(m.summary));
    });
  map
    .command("dump")
    .description(
      "print every entry; keys and values decoded with the map's BTF when the kernel has it, else hex",
    )
    .argument("<map...>", ref)
    .option("--json", "print one JSON array like `bpftool -j map dump` (key, value, formatted)")
    .option(
      "--aggregate",
      "draw a counter map sorted by count, a histogram map as histograms (see docs/inspect.md#aggregations)",
    )
    .option("--top <n>", "with --aggregate: only the n highest counters")
    .action(async (args: string[], opts: Json & { aggregate?: boolean; top?: string }) => {
      const { parseRef, openMap } = await import("../inspect/system.js");
      const { mapEntries } = await import("../inspect/map-entries.js");
      const { ref: r, rest } = parseRef(args, "map");
      extra(rest);
      using m = openMap(r);
      if (opts.aggregate) {
        const { readAggregate, renderAggregate } = await import("../inspect/aggregate.js");
        const a = readAggregate(m);
        if (!a)
          throw new UsageError(
            `map ${m.info.id} (${m.info.name}) holds no counters or histograms${m.btf ? "" : " that its BTF could show (it has none)"}: its values are not integers, integer arrays or a struct with \`slots\` (see docs/inspect.md#aggregations)`,
          );
        const top = opts.top === undefined ? 0 : Number(opts.top);
        if (!Number.isInteger(top) || top < 0)
          throw new UsageError("--top must be a non-negative integer", 2);
        console.log(opts.json ? await json(a) : renderAggregate(a, { top }).join("\n"));
        return;
      }
      const entries = [...mapEntries(m)];
      if (opts.json) console.log(await json(entries.map(entryJson)));
      else {
        for (const e of entries) console.log(await entryText(e));
        console.log(`Found ${entries.length} element${entries.length === 1 ? "" : "s"}`);
      }
    });
  map
    .command("get")
    .alias("lookup")
    .description("print the entry of one key (exit 1 when the map has none)")
    .argument(
      "<map-and-key...>",
      `${ref}, then the key: JSON (decoded with the map's BTF), a number, or hex BYTES…`,
    )
    .option("--json", "print JSON like `bpftool -j map lookup`")
    .action(async (args: string[], opts: Json) => {
      const { parseRef, openMap } = await import("../inspect/system.js");
      const { mapGet, parseSide } = await import("../inspect/map-entries.js");
      const { ref: r, rest } = parseRef(args, "map");
      using m = openMap(r);
      const e = mapGet(m, parseSide(m, "key", rest));
      if (!e) {
        console.error(`map ${m.info.id} (${m.info.name}) has no entry for this key`);
        process.exitCode = 1;
        return;
      }
      console.log(opts.json ? await json(entryJson(e)) : await entryText(e));
    });
  map
    .command("update")
    .description("write one entry (a per-CPU map gets the value on every CPU)")
    .argument("<map-and-key...>", `${ref}, then the key as for \`map get\``)
    .requiredOption(
      "--value <value...>",
      "the value: JSON (with the map's BTF), a number, or hex BYTES…",
    )
    .addOption(
      new Option(
        "--mode <mode>",
        "any: create or replace; noexist: only create; exist: only replace",
      )
        .choices(["any", "noexist", "exist"])
        .default("any"),
    )
    .action(
      async (args: string[], opts: { value: string[]; mode: "any" | "noexist" | "exist" }) => {
        const { parseRef, openMap } = await import("../inspect/system.js");
        const { mapUpdate, parseSide } = await import("../inspect/map-entries.js");
        const { ref: r, rest } = parseRef(args, "map");
        using m = openMap(r);
        mapUpdate(m, parseSide(m, "key", rest), parseSide(m, "value", opts.value), opts.mode);
      },
    );
  map
    .command("delete")
    .description("delete one entry (exit 1 when there was none)")
    .argument("<map-and-key...>", `${ref}, then the key as for \`map get\``)
    .action(async (args: string[]) => {
      const { parseRef, openMap } = await import("../inspect/system.js");
      const { mapDelete, parseSide } = await import("../inspect/map-entries.js");
      const { ref: r, rest } = parseRef(args, "map");
      using m = openMap(r);
      if (!mapDelete(m, parseSide(m, "key", rest))) {
        console.error(`map ${m.info.id} (${m.info.name}) has no entry for this key`);
        process.exitCode = 1;
      }
    });

  // ---- link ----
  const link = cli.command("link").description("list and detach bpf_links (any loader's)");
  link
    .command("list")
    .alias("ls")
    .description("list every bpf_link: id, type, program, where it attaches")
    .option("--json", "print one JSON array (bpftool's keys)")
    .action(async (opts: Json) => {
      const { listLinks } = await import("../inspect/system.js");
      const links = listLinks();
      if (opts.json) console.log(await json(links.map(linkJson)));
      else for (const l of links) console.log(linkText(l));
    });
  link
    .command("show")
    .description("show one bpf_link")
    .argument("<link...>", "id N | pinned PATH (or just N or PATH)")
    .option("--json", "print JSON (bpftool's keys)")
    .action(async (args: string[], opts: Json) => {
      const { parseRef, showLink } = await import("../inspect/system.js");
      const { ref: r, rest } = parseRef(args, "link");
      extra(rest);
      const l = showLink(r);
      console.log(opts.json ? await json(linkJson(l)) : linkText(l));
    });
  link
    .command("detach")
    .description("detach a bpf_link: its program stops running there, whoever holds the link")
    .argument("<link...>", "id N | pinned PATH (or just N or PATH)")
    .action(async (args: string[]) => {
      const { parseRef, detachLink } = await import("../inspect/system.js");
      const { ref: r, rest } = parseRef(args, "link");
      extra(rest);
      const l = detachLink(r);
      console.log(`detached link ${l.id} (${l.type}, prog ${l.progId})`);
    });

  // ---- net ----
  cli
    .command("net")
    .description("the XDP and tc programs attached to each network interface (this netns)")
    .option("-i, --interface <iface>", "only this interface")
    .option("--all", "also list interfaces with nothing attached")
    .option("--json", "print one JSON array")
    .action(async (opts: Json & { interface?: string; all?: boolean }) => {
      const { netAttachments } = await import("../inspect/net.js");
      const { listPrograms } = await import("../inspect/system.js");
      let ifaces = netAttachments();
      if (opts.interface !== undefined) {
        const want = opts.interface;
        ifaces = ifaces.filter((i) => i.name === want || String(i.ifindex) === want);
        if (ifaces.length === 0) {
          throw new UsageError(
            `no network interface "${want}" in this network namespace (list them with \`ip link\`)`,
          );
        }
      } else if (!opts.all) ifaces = ifaces.filter((i) => i.xdp.length + i.tc.length > 0);
      const names = new Map(listPrograms().map((p) => [p.id, p.name]));
      const named = ifaces.map((i) => ({
        ...i,
        xdp: i.xdp.map((x) => ({ ...x, progName: names.get(x.progId) ?? "" })),
        tc: i.tc.map((x) => ({ ...x, progName: names.get(x.progId) ?? "" })),
      }));
      if (opts.json) {
        console.log(
          await json(
            named.map((i) => ({
              ifindex: i.ifindex,
              devname: i.name,
              xdp: i.xdp.map((x) => ({ mode: x.mode, id: x.progId, name: x.progName })),
              tc: i.tc.map((x) => ({
                direction: x.direction,
                kind: x.kind,
                id: x.progId,
                name: x.progName,
                ...(x.name !== undefined && { filter_name: x.name }),
                ...(x.priority !== undefined && {
                  priority: x.priority,
                  handle: x.handle,
                  direct_action: x.directAction,
                }),
              })),
            })),
          ),
        );
        return;
      }
      if (named.length === 0)
        console.log("nothing attached to any interface (--all lists them all)");
      for (const i of named) {
        console.log(`${i.name}(${i.ifindex}):`);
        if (i.xdp.length + i.tc.length === 0) console.log("\t(nothing attached)");
        for (const x of i.xdp) console.log(`\txdp ${x.mode}  id ${x.progId}  ${x.progName}`);
        for (const x of i.tc)
          console.log(
            `\ttc ${x.direction} ${x.kind}  id ${x.progId}  ${x.progName}` +
              (x.kind === "cls_bpf"
                ? `  (filter ${x.name ?? "?"} pref ${x.priority} handle 0x${x.handle!.toString(16)}${x.directAction ? " direct-action" : ""})`
                : ""),
          );
      }
    });
}

function extra(rest: string[]): void {
  if (rest.length > 0) {
    throw new UsageError(`unexpected argument${rest.length > 1 ? "s" : ""}: ${rest.join(" ")}`, 2);
  }
}

type ProgramSummary = import("../inspect/system.js").ProgramSummary;
type MapSummary = import("../inspect/system.js").MapSummary;
type LinkSummary = import("../inspect/system.js").LinkSummary;
type MapEntry = import("../inspect/map-entries.js").MapEntry;

function progJson(p: ProgramSummary) {
  return {
    id: p.id,
    type: p.type,
    name: p.name,
    tag: p.tag,
    loaded_at: p.loadedAt,
    uid: p.uid,
    bytes_xlated: p.bytesXlated,
    bytes_jited: p.bytesJited,
    map_ids: p.mapIds,
    btf_id: p.btfId,
    ...(p.runCount > 0n && { run_time_ns: p.runTimeNs, run_cnt: p.runCount }),
    ...(p.verifiedInsns > 0 && { verified_insns: p.verifiedInsns }),
  };
}

function progText(p: ProgramSummary): string {
  return [
    `${p.id}: ${p.type}  name ${p.name || "(none)"}  tag ${p.tag}`,
    `\tloaded_at ${date(p.loadedAt)}  uid ${p.uid}`,
    `\txlated ${p.bytesXlated}B  jited ${p.bytesJited}B` +
      (p.mapIds.length ? `  map_ids ${p.mapIds.join(",")}` : "") +
      (p.btfId ? `  btf_id ${p.btfId}` : ""),
    ...(p.runCount > 0n ? [`\trun_cnt ${p.runCount}  run_time_ns ${p.runTimeNs}`] : []),
  ].join("\n");
}

function mapJson(m: MapSummary) {
  return {
    id: m.id,
    type: m.type,
    name: m.name,
    flags: m.flags,
    bytes_key: m.bytesKey,
    bytes_value: m.bytesValue,
    max_entries: m.maxEntries,
    frozen: m.frozen ? 1 : 0,
    ...(m.btfId !== 0 && { btf_id: m.btfId }),
  };
}

function mapText(m: MapSummary): string {
  return (
    `${m.id}: ${m.type}  name ${m.name || "(none)"}` +
    (m.flags ? `  flags 0x${m.flags.toString(16)}` : "") +
    `\n\tkey ${m.bytesKey}B  value ${m.bytesValue}B  max_entries ${m.maxEntries}` +
    (m.btfId ? `  btf_id ${m.btfId}` : "") +
    (m.frozen ? "  frozen" : "")
  );
}

function linkJson(l: LinkSummary) {
  return {
    id: l.id,
    type: l.type,
    prog_id: l.progId,
    ...(l.attachType !== undefined && { attach_type: l.attachType }),
    ...(l.ifindex !== undefined && { ifindex: l.ifindex }),
    ...(l.tpName !== undefined && { tp_name: l.tpName }),
    ...(l.cgroupId !== undefined && { cgroup_id: l.cgroupId }),
    ...(l.targetObjId !== undefined && {
      target_obj_id: l.targetObjId,
      target_btf_id: l.targetBtfId,
    }),
  };
}

function linkText(l: LinkSummary): string {
  const where = [
    l.attachType !== undefined ? `attach_type ${l.attachType}` : "",
    l.ifindex !== undefined ? `ifindex ${l.ifindex}` : "",
    l.tpName !== undefined ? `tp ${l.tpName}` : "",
    l.cgroupId !== undefined ? `cgroup_id ${l.cgroupId}` : "",
    l.targetBtfId !== undefined ? `target_btf_id ${l.targetBtfId}` : "",
  ].filter(Boolean);
  return `${l.id}: ${l.type}  prog ${l.progId}${where.length ? "  " + where.join("  ") : ""}`;
}

function entryJson(e: MapEntry) {
  return {
    key: hex(e.key),
    ...(e.value !== undefined && { value: hex(e.value) }),
    ...(e.values !== undefined && {
      values: e.values.map((v) => ({ cpu: v.cpu, value: hex(v.value) })),
    }),
    ...(e.formatted !== undefined && { formatted: e.formatted }),
  };
}

async function entryText(e: MapEntry): Promise<string> {
  const { btfValueText } = await import("../obj/btf-value.js");
  const f = e.formatted;
  const key = f?.key !== undefined ? btfValueText(f.key) : hexText(e.key);
  if (e.values) {
    const per = e.values.map((v, i) =>
      f?.values
        ? `cpu${v.cpu}: ${btfValueText(f.values[i]!.value)}`
        : `cpu${v.cpu}: ${hexText(v.value)}`,
    );
    return `${key}: ${per.join("  ")}`;
  }
  const value = f?.value !== undefined ? btfValueText(f.value) : hexText(e.value!);
  return `${key}: ${value}`;
}
