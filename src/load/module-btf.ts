// Kernel module BTF objects for one program load: `__ksym` kfuncs and variables that live in a
// module (its split BTF in /sys/kernel/btf/<module>) are referenced through the module's BTF
// object fd. A kfunc call's insn.off indexes the program's fd_array (BPF_PROG_LOAD
// `fd_array`; index 0 is never used: off 0 means vmlinux), as libbpf lays it out; a typed
// module variable's ld_imm64 carries the fd itself in its second half.
import { btfGetFdById, btfGetNextId } from "../sys/bpf.js";
import { btfInfo } from "../sys/info.js";
import type { FD } from "../sys/fd.js";
import { Errno, SysError } from "../sys/errors.js";

export class ModuleBtfFds {
  readonly #byModule = new Map<string, { fd: FD; index: number }>();
  /** fd_array as the kernel reads it: slot 0 unused */
  readonly #slots: number[] = [0];

  /** The module's BTF object (opened on first use): its fd and its fd_array index. */
  get(module: string, fail: (why: string) => never): { fd: number; index: number } {
    let hit = this.#byModule.get(module);
    if (!hit) {
      if (this.#slots.length > 0x7fff) fail("more module BTF objects than insn.off can index");
      const fd =
        findModuleBtf(module) ??
        fail(`module ${module} has no loaded BTF object (unloaded meanwhile?)`);
      hit = { fd, index: this.#slots.length };
      this.#slots.push(fd.fd);
      this.#byModule.set(module, hit);
    }
    return { fd: hit.fd.fd, index: hit.index };
  }

  /** The fd_array for BPF_PROG_LOAD, undefined when no module BTF is referenced. */
  fdArray(): Int32Array | undefined {
    return this.#slots.length > 1 ? Int32Array.from(this.#slots) : undefined;
  }

  /** Close the fds (the loaded program holds its own references). */
  close(): void {
    for (const { fd } of this.#byModule.values()) fd.close();
    this.#byModule.clear();
    this.#slots.length = 1;
  }
}

/** The kernel's BTF object of `module` (BTF_GET_NEXT_ID walk, matched by name). */
function findModuleBtf(module: string): FD | undefined {
  for (let id = btfGetNextId(0); id !== undefined; id = btfGetNextId(id)) {
    let fd: FD;
    try {
      fd = btfGetFdById(id);
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.ENOENT) continue; // freed meanwhile
      throw e;
    }
    let keep = false;
    try {
      const info = btfInfo(fd.fd);
      keep = info.kernelBtf && info.name === module;
    } finally {
      if (!keep) fd.close();
    }
    if (keep) return fd;
  }
  return undefined;
}
