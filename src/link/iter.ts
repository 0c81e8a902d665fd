// BPF iterators (`iter/<target>`, TRACING programs loaded with expected_attach_type
// BPF_TRACE_ITER and attach_btf_id = the vmlinux FUNC `bpf_iter_<target>`): LINK_CREATE makes
// an iterator link; each BPF_ITER_CREATE on it gives an fd whose read() runs the program over
// the kernel objects (tasks, maps, …) and returns what it wrote with bpf_seq_printf /
// bpf_seq_write. `IterLink.read()` does that to the end.
import { AttachType, ProgType, nameOf } from "../obj/consts.js";
import { iterCreate, linkCreate } from "../sys/bpf.js";
import { readFd } from "../sys/fd.js";
import { AttachError } from "./errors.js";
import { FdLink, progLabel, type AttachableProgram } from "./link.js";

/** An iterator link: `read()` runs the iterator once and returns its whole output. */
export class IterLink extends FdLink {
  /** One pass of the iterator: every byte the program writes, until the kernel ends it. */
  read(): Buffer {
    const it = iterCreate(this.liveFd("read"));
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readFd(it.fd, buf, "iterator");
        if (n === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      return Buffer.concat(chunks);
    } finally {
      it.close();
    }
  }

  /** `read()` as UTF-8 text (what bpf_seq_printf writes). */
  readText(): string {
    return this.read().toString("utf8");
  }
}

/** Attach an `iter/<target>` program: an iterator link to read from. */
export function attachIter(prog: AttachableProgram, target?: string): IterLink {
  if (prog.type !== ProgType.TRACING)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not TRACING (iter/)`,
    );
  const fd = linkCreate({ progFd: prog.fd, target: 0, attachType: AttachType.TRACE_ITER });
  return new IterLink("iter", `iter ${prog.name}${target ? ` over ${target}` : ""}`, fd);
}
