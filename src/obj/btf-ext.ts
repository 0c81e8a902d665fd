// `.BTF.ext`: per-section func_info, line_info and CO-RE relocation records (applied by
// src/obj/core.ts).
//
// In the ELF, record `insn_off` is a BYTE offset into the program section; BPF_PROG_LOAD wants
// an instruction index into the program being loaded. We convert on read (bytes / 8) and
// back on write, so everything above this module speaks instruction indices.
// Strings (section names, file names, source lines) live in the `.BTF` string table.
import { ByteReader, ByteWriter } from "./byte-reader.js";
import { BTF_MAGIC, BTF_VERSION, writeBtfHeader, type Btf } from "./btf.js";
import { ObjectError } from "./errors.js";
import { INSN_SIZE } from "./insn.js";

const SECTION = ".BTF.ext";
const HEADER_LEN_V1 = 24; // func_info + line_info
const HEADER_LEN_CORE = 32; // + core_relo
const FUNC_INFO_SIZE = 8;
const LINE_INFO_SIZE = 16;
const CORE_RELO_SIZE = 16;

export interface FuncInfo {
  /** instruction index within the section */
  insn: number;
  /** BTF id of the FUNC */
  typeId: number;
}

export interface LineInfo {
  insn: number;
  fileNameOff: number;
  lineOff: number;
  fileName: string;
  /** the source line text */
  text: string;
  line: number;
  col: number;
}

export interface CoreRelo {
  insn: number;
  typeId: number;
  accessStr: string;
  /** enum bpf_core_relo_kind */
  kind: number;
}

export interface BtfExt {
  /** section name → records sorted as in the file */
  funcInfo: Map<string, FuncInfo[]>;
  lineInfo: Map<string, LineInfo[]>;
  coreRelos: Map<string, CoreRelo[]>;
}

export const lineCol = (line: number, col: number): number => ((line << 10) | (col & 0x3ff)) >>> 0;

/** Parse `.BTF.ext`; `btf` supplies the string table. Throws ObjectError on bad input. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const r = new ByteReader(bytes, SECTION);
  const magic = r.u16(0, ".BTF.ext header");
  if (magic !== BTF_MAGIC) {
    throw r.error(`bad .BTF.ext magic 0x${magic.toString(16)} (want 0xeb9f)`, 0);
  }
  const version = r.u8(2);
  if (version !== BTF_VERSION) throw r.error(`unsupported .BTF.ext version ${version}`, 2);
  const hdrLen = r.u32(4, ".BTF.ext header");
  if (hdrLen < HEADER_LEN_V1) throw r.error(`.BTF.ext header length ${hdrLen} is below 24`, 4);
  r.need(0, hdrLen, ".BTF.ext header");

  const str = (off: number, at: number): string => {
    try {
      return btf.stringAt(off);
    } catch (e) {
      if (e instanceof ObjectError) throw r.error(`${e.detail} (referenced from .BTF.ext)`, at);
      throw e;
    }
  };
  const area = (offField: number, what: string): { start: number; len: number } => {
    const off = r.u32(offField);
    const len = r.u32(offField + 4);
    r.need(hdrLen + off, len, what);
    return { start: hdrLen + off, len };
  };

  // Each area: u32 rec_size, then blocks of {sec_name_off, num_info, records[num_info]}.
  const blocks = (
    where: { start: number; len: number },
    what: string,
    minRec: number,
    each: (sec: string, at: number) => void,
  ): void => {
    if (where.len === 0) return;
    const end = where.start + where.len;
    const recSize = r.u32(where.start, `${what} record size`);
    if (recSize < minRec || recSize % 4 !== 0) {
      throw r.error(
        `${what} record size ${recSize} is invalid (need ≥ ${minRec}, 4-aligned)`,
        where.start,
      );
    }
    let off = where.start + 4;
    while (off < end) {
      if (off + 8 > end) throw r.error(`${what} block header is truncated`, off);
      const sec = str(r.u32(off), off);
      const n = r.u32(off + 4);
      off += 8;
      if (n === 0) throw r.error(`${what} block for section '${sec}' has no records`, off - 4);
      if (n > (end - off) / recSize) {
        throw r.error(
          `${what} block for section '${sec}' claims ${n} records past the end`,
          off - 4,
        );
      }
      for (let k = 0; k < n; k++, off += recSize) each(sec, off);
    }
  };
  const insnIndex = (byteOff: number, at: number, what: string): number => {
    if (byteOff % INSN_SIZE !== 0) {
      throw r.error(`${what} insn_off ${byteOff} is not a multiple of 8`, at);
    }
    return byteOff / INSN_SIZE;
  };
  const push = <T>(m: Map<string, T[]>, sec: string, v: T): void => {
    const list = m.get(sec);
    if (list) list.push(v);
    else m.set(sec, [v]);
  };

  const ext: BtfExt = { funcInfo: new Map(), lineInfo: new Map(), coreRelos: new Map() };
  blocks(area(8, "func_info"), "func_info", FUNC_INFO_SIZE, (sec, at) => {
    push(ext.funcInfo, sec, {
      insn: insnIndex(r.u32(at), at, "func_info"),
      typeId: r.u32(at + 4),
    });
  });
  blocks(area(16, "line_info"), "line_info", LINE_INFO_SIZE, (sec, at) => {
    const fileNameOff = r.u32(at + 4);
    const lineOff = r.u32(at + 8);
    const lc = r.u32(at + 12);
    push(ext.lineInfo, sec, {
      insn: insnIndex(r.u32(at), at, "line_info"),
      fileNameOff,
      lineOff,
      fileName: str(fileNameOff, at + 4),
      text: str(lineOff, at + 8),
      line: lc >>> 10,
      col: lc & 0x3ff,
    });
  });
  if (hdrLen >= HEADER_LEN_CORE) {
    blocks(area(24, "core_relo"), "core_relo", CORE_RELO_SIZE, (sec, at) => {
      push(ext.coreRelos, sec, {
        insn: insnIndex(r.u32(at), at, "core_relo"),
        typeId: r.u32(at + 4),
        accessStr: str(r.u32(at + 8), at + 8),
        kind: r.u32(at + 12),
      });
    });
  }
  return ext;
}

/** What the compiler knows per section; strings are interned through `addString`. */
export interface BtfExtInput {
  funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  lineInfo: ReadonlyMap<
    string,
    readonly { insn: number; fileName: string; text: string; line: number; col: number }[]
  >;
  /** CO-RE relocations (insn is an instruction index in the section, as everywhere here) */
  coreRelos?: ReadonlyMap<string, readonly CoreRelo[]>;
}

/**
 * Encode `.BTF.ext` (func_info + line_info, and CO-RE records when given). `addString` is the `.BTF` string
 * table's interner (`BtfBuilder.addString`): call this BEFORE encoding the BTF so the
 * strings it adds are in it.
 */
export function encodeBtfExt(ext: BtfExtInput, addString: (s: string) => number): Uint8Array {
  const area = (
    recSize: number,
    m: ReadonlyMap<string, readonly unknown[]>,
    rec: (w: ByteWriter, v: never) => void,
  ): Uint8Array => {
    const w = new ByteWriter();
    const nonEmpty = [...m].filter(([, list]) => list.length > 0);
    if (nonEmpty.length === 0) return new Uint8Array(0);
    w.u32(recSize);
    for (const [sec, list] of nonEmpty) {
      w.u32(addString(sec));
      w.u32(list.length);
      for (const v of list) rec(w, v as never);
    }
    return w.finish();
  };
  const funcs = area(FUNC_INFO_SIZE, ext.funcInfo, (w, f: FuncInfo) => {
    w.u32(f.insn * INSN_SIZE);
    w.u32(f.typeId);
  });
  const lines = area(
    LINE_INFO_SIZE,
    ext.lineInfo,
    (w, l: { insn: number; fileName: string; text: string; line: number; col: number }) => {
      w.u32(l.insn * INSN_SIZE);
      w.u32(addString(l.fileName));
      w.u32(addString(l.text));
      w.u32(lineCol(l.line, l.col));
    },
  );
  const core = area(CORE_RELO_SIZE, ext.coreRelos ?? new Map(), (w, r: CoreRelo) => {
    w.u32(r.insn * INSN_SIZE);
    w.u32(r.typeId);
    w.u32(addString(r.accessStr));
    w.u32(r.kind);
  });
  const w = new ByteWriter();
  writeBtfHeader(w, [funcs.byteLength, lines.byteLength, core.byteLength]); // func_info, line_info, core_relo
  w.bytes(funcs);
  w.bytes(lines);
  w.bytes(core);
  return w.finish();
}

/** `struct bpf_func_info[]` for BPF_PROG_LOAD (insn_off is an instruction index there). */
export function kernelFuncInfo(records: readonly FuncInfo[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of records) {
    w.u32(f.insn);
    w.u32(f.typeId);
  }
  return w.finish();
}

/** `struct bpf_line_info[]` for BPF_PROG_LOAD; string offsets refer to the loaded BTF. */
export function kernelLineInfo(
  records: readonly Pick<LineInfo, "insn" | "fileNameOff" | "lineOff" | "line" | "col">[],
): Uint8Array {
  const w = new ByteWriter();
  for (const l of records) {
    w.u32(l.insn);
    w.u32(l.fileNameOff);
    w.u32(l.lineOff);
    w.u32(lineCol(l.line, l.col));
  }
  return w.finish();
}

export const KERNEL_FUNC_INFO_SIZE = FUNC_INFO_SIZE;
export const KERNEL_LINE_INFO_SIZE = LINE_INFO_SIZE;
