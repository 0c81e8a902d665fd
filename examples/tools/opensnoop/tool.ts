// opensnoop: trace open/openat/openat2, the columns of bcc's libbpf-tools opensnoop:
//   PID  COMM  FD  ERR  PATH        (-T adds TIME, -U adds UID, -e adds FLAGS and MODE)
//   node dist/examples/tools/opensnoop/tool.js [-T] [-U] [-e] [-x] [-p PID] [-t TID] [-u UID] [-n NAME]
import { Open } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

export interface OpensnoopOptions {
  timestamp: boolean;
  printUid: boolean;
  extended: boolean;
  failed: boolean;
  pid: number;
  tid: number;
  uid: number;
  name?: string;
}

export function parse(argv: string[]): OpensnoopOptions {
  const o: OpensnoopOptions = {
    timestamp: false,
    printUid: false,
    extended: false,
    failed: false,
    pid: 0,
    tid: 0,
    uid: 0xffffffff,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-T" || a === "--timestamp") o.timestamp = true;
    else if (a === "-U" || a === "--print-uid") o.printUid = true;
    else if (a === "-e" || a === "--extended-fields") o.extended = true;
    else if (a === "-x" || a === "--failed") o.failed = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else if (a === "-t" || a === "--tid") o.tid = intArg(a, argv[++i]);
    else if (a === "-u" || a === "--uid") o.uid = intArg(a, argv[++i]);
    else if (a === "-n" || a === "--name") o.name = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;
const octal = (n: number, width: number) => (n >>> 0).toString(8).padStart(width, "0");

/** The C tool's line for one open, or undefined when -n filters it out. */
export function format(e: Open, o: OpensnoopOptions): string | undefined {
  const comm = cstr(e.comm);
  if (o.name !== undefined && !comm.includes(o.name)) return undefined;
  const fd = e.ret >= 0 ? e.ret : -1;
  const err = e.ret >= 0 ? 0 : -e.ret;
  let line = "";
  if (o.timestamp) line += `${pad(clock(), -8)} `;
  if (o.printUid) line += `${pad(e.uid, -7)} `;
  line += `${pad(e.pid, -6)} ${pad(comm, -16)} ${pad(fd, 3)} ${pad(err, 3)} `;
  if (o.extended) {
    if (e.mode === 0 && (e.flags & O_CREAT) === 0 && (e.flags & O_TMPFILE) !== O_TMPFILE)
      line += `${octal(e.flags, 8)} n/a  `;
    else line += `${octal(e.flags, 8)} ${octal(e.mode, 4)} `;
  }
  return line + cstr(e.fname);
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("opensnoop", {
    globals: { targ_tgid: o.pid, targ_pid: o.tid, targ_uid: o.uid, targ_failed: o.failed ? 1 : 0 },
  });
  let header = "";
  if (o.timestamp) header += `${pad("TIME", -8)} `;
  if (o.printUid) header += `${pad("UID", -7)} `;
  header += `${pad("PID", -6)} ${pad("COMM", -16)} ${pad("FD", 3)} ${pad("ERR", 3)} `;
  if (o.extended) header += `${pad("FLAGS", -8)} ${pad("MODE", -5)} `;
  out(header + "PATH");
  await stream(loaded, signal, (raw) => {
    const line = format(Open.decode(raw), o);
    if (line !== undefined) out(line);
  });
}

main(import.meta, run);
