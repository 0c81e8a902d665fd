// The build server's wire format (server.ts; native/tsbpf-client.c is the client bin/tsbpf
// runs, server-control.ts the Node one). Pure: bytes in, values out.
//
// Request: a u32le length, then that many bytes of NUL-terminated strings:
//   "tsbpf-build 1", cwd, umask (octal), "<stdout is a tty><stderr is a tty>" ("0"/"1" each),
//   uid (decimal), argc (decimal), argv[0..argc), then the client's environment ("K=V" each).
// The uid field is informational: the server serves only the uid the kernel reports for the
// connection (SO_PEERCRED), and each client checks the server's the same way before sending.
// Response: frames of a u8 kind, a u32le length and the bytes: one started frame when the
// build begins (its body the build time limit in seconds: the client waits that long for the
// rest, and builds the ordinary way when no started frame comes in time), stdout or stderr
// text, and one exit frame (the exit status as decimal text) after which the server closes
// the connection.
// Exit status NOT_SERVED tells the client to run the command itself (another protocol
// version, another user, a server older than the installed package); the C client also
// returns it when it cannot connect, and bin/tsbpf then builds the ordinary way.

export const REQUEST_TAG = "tsbpf-build 2";
/** Requests larger than this are refused (argv + environment; Linux's ARG_MAX is 2 MiB). */
export const MAX_REQUEST = 4 << 20;
/** sysexits' EX_TEMPFAIL: "not built here, build it yourself". */
export const NOT_SERVED = 75;
/** tsbpf-client's exit status when the cache or the server is not the user's alone (EX_NOPERM). */
export const NOT_TRUSTED = 77;

export const FrameKind = { Stdout: 1, Stderr: 2, Exit: 3, Started: 4 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface BuildRequest {
  cwd: string;
  umask: number;
  stdoutTty: boolean;
  stderrTty: boolean;
  uid: number;
  argv: string[];
  env: Record<string, string>;
}

/** A request that is not in this format (bytes from something that is not our client). */
export class RequestError extends Error {
  override name = "RequestError";
}

const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;

/** The payload after the length prefix. */
export function parseRequest(payload: Uint8Array): BuildRequest {
  if (payload.length === 0 || payload[payload.length - 1] !== 0)
    throw new RequestError("a request must end with a NUL byte");
  const fields = Buffer.from(payload.buffer, payload.byteOffset, payload.length - 1)
    .toString("utf8")
    .split("\0");
  const [tag, cwd, umask, ttys, uid, argc] = fields;
  if (tag !== REQUEST_TAG) throw new RequestError(`unknown request tag ${JSON.stringify(tag)}`);
  if (!cwd?.startsWith("/")) throw new RequestError("the working directory must be absolute");
  if (umask === undefined || !/^[0-7]{1,4}$/.test(umask))
    throw new RequestError(`bad umask ${JSON.stringify(umask)}`);
  if (ttys === undefined || !/^[01][01]$/.test(ttys))
    throw new RequestError(`bad terminal flags ${JSON.stringify(ttys)}`);
  if (uid === undefined || !DECIMAL.test(uid)) throw new RequestError(`bad uid ${uid}`);
  if (argc === undefined || !DECIMAL.test(argc)) throw new RequestError(`bad argc ${argc}`);
  const n = Number(argc);
  if (fields.length < 6 + n) throw new RequestError(`argc is ${n} but fewer arguments follow`);
  const env = new Map<string, string>();
  for (const e of fields.slice(6 + n)) {
    const eq = e.indexOf("=");
    // the C library keeps entries without '=' or with an empty name; Node drops them too.
    // The first of two entries wins, as getenv() finds it.
    if (eq > 0 && !env.has(e.slice(0, eq))) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return {
    cwd,
    umask: parseInt(umask, 8),
    stdoutTty: ttys[0] === "1",
    stderrTty: ttys[1] === "1",
    uid: Number(uid),
    argv: fields.slice(6, 6 + n),
    // own properties even for names like valueOf or __proto__
    env: Object.fromEntries(env),
  };
}

/** The request bytes, length prefix included (the Node client; the C one writes the same). */
export function encodeRequest(r: BuildRequest): Buffer {
  const strings = [
    REQUEST_TAG,
    r.cwd,
    r.umask.toString(8),
    `${r.stdoutTty ? 1 : 0}${r.stderrTty ? 1 : 0}`,
    String(r.uid),
    String(r.argv.length),
    ...r.argv,
    ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`),
  ];
  if (strings.some((s) => s.includes("\0")))
    throw new RequestError("arguments and environment cannot contain NUL bytes");
  const payload = Buffer.from(strings.map((s) => `${s}\0`).join(""), "utf8");
  const head = Buffer.alloc(4);
  head.writeUInt32LE(payload.length);
  return Buffer.concat([head, payload]);
}

export function encodeFrame(kind: FrameKind, data: Uint8Array | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const head = Buffer.alloc(5);
  head[0] = kind;
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

export interface Frame {
  kind: FrameKind;
  data: Buffer;
}

/** Splits a byte stream into length-prefixed records as they arrive (requests or frames). */
export class Unframer {
  #pending = Buffer.alloc(0);
  constructor(
    /** bytes before the length: 0 for requests, 1 (the kind) for response frames */
    private readonly headBytes: 0 | 1,
    private readonly max = MAX_REQUEST,
  ) {}

  /** Appends bytes; returns the records now complete. Throws RequestError on a bad length. */
  push(chunk: Uint8Array): { head: number; body: Buffer }[] {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const out: { head: number; body: Buffer }[] = [];
    for (;;) {
      const h = this.headBytes;
      if (this.#pending.length < h + 4) break;
      const len = this.#pending.readUInt32LE(h);
      if (len > this.max) throw new RequestError(`a record of ${len} bytes is too large`);
      if (this.#pending.length < h + 4 + len) break;
      out.push({
        head: h ? this.#pending[0]! : 0,
        body: Buffer.from(this.#pending.subarray(h + 4, h + 4 + len)),
      });
      this.#pending = this.#pending.subarray(h + 4 + len);
    }
    return out;
  }

  /** Bytes of an incomplete record still buffered. */
  get buffered(): number {
    return this.#pending.length;
  }
}
