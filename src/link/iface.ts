// Network interface names ↔ indexes, in the calling process's network namespace.

import { readFileSync } from "node:fs";
import { interfaceIndex } from "../sys/socket.js";
import { AttachError } from "./errors.js";

export interface Interface {
  index: number;
  /** the name when known (given, or read back from sysfs for an index) */
  name: string;
}

/** Resolve "eth0" or an ifindex; throws `no network interface "eth9"` when it does not exist. */
export function resolveInterface(iface: string | number): Interface {
  if (typeof iface === "number") {
    if (!Number.isInteger(iface) || iface <= 0)
      throw new AttachError(`invalid interface index ${iface}: pass a name or a positive index`);
    return { index: iface, name: nameOfIndex(iface) ?? `ifindex ${iface}` };
  }
  if (iface === "" || iface.length >= 16 || iface.includes("/"))
    throw new AttachError(`invalid network interface name "${iface}"`);
  const r = interfaceIndex(iface);
  if (r === undefined)
    throw new AttachError(
      `no network interface "${iface}" in this network namespace (list them with \`ip link\`)`,
    );
  return { index: r, name: iface };
}

/** The name of an interface index, via sysfs of this netns; undefined when not found. */
function nameOfIndex(index: number): string | undefined {
  try {
    const text = readFileSync("/proc/net/dev", "utf8");
    for (const line of text.split("\n").slice(2)) {
      const name = line.split(":")[0]?.trim();
      if (!name) continue;
      try {
        if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8")) === index) return name;
      } catch {
        // sysfs of another netns may not show it; keep looking
      }
    }
  } catch {
    // no procfs: fine, we only wanted a nicer label
  }
  return undefined;
}
