// Deterministic mutations of eBPF objects for the ELF fuzz campaign (run.ts): input `index` of
// a campaign with `seed` is always the same bytes, so a crash or hang is reproduced from its
// number alone (`node dist/bench/fuzz-elf/run.js --seed S --only INDEX`).

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_32 = [
  0, 1, 2, 4, 7, 8, 0x10, 0x40, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Byte offsets of the ELF64 section header fields worth hitting (offset, size, link, info …). */
function sectionHeaderFields(b: Uint8Array): number[] {
  if (b.length < 64) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  if (shentsize !== 64 || shoff <= 0 || shoff + shnum * 64 > b.length) return [];
  const out: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * 64;
    // sh_name, sh_type, sh_offset, sh_size, sh_link, sh_info, sh_entsize
    out.push(s, s + 4, s + 0x18, s + 0x20, s + 0x28, s + 0x2c, s + 0x38);
  }
  return out;
}

/**
 * Input `index` of the campaign: one of `seeds`, mutated 1–4 times (bit flips, interesting
 * integers at random places or in section headers, truncation, growth, splices from another
 * seed, zeroed or duplicated ranges).
 */
export function mutant(seeds: readonly Uint8Array[], seed: number, index: number): Uint8Array {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const pick = (n: number) => Math.floor(r() * n);
  let b = seeds[pick(seeds.length)]!.slice();
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds; k++) {
    if (b.length === 0) break;
    const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (pick(9)) {
      case 0: // flip 1–8 bits
        for (let n = 1 + pick(8); n > 0; n--) b[pick(b.length)]! ^= 1 << pick(8);
        break;
      case 1: // an interesting byte
        b[pick(b.length)] = [0, 1, 0x7f, 0x80, 0xff][pick(5)]!;
        break;
      case 2: {
        // an interesting u32 anywhere
        const at = pick(Math.max(1, b.length - 3));
        if (at + 4 <= b.length)
          dv().setUint32(at, INTERESTING_32[pick(INTERESTING_32.length)]!, true);
        break;
      }
      case 3: {
        // a section header field: u32 or u64 interesting value
        const fields = sectionHeaderFields(b);
        if (fields.length === 0) break;
        const at = fields[pick(fields.length)]!;
        const v = INTERESTING_32[pick(INTERESTING_32.length)]!;
        if (r() < 0.5 || at + 8 > b.length) dv().setUint32(at, v, true);
        else dv().setBigUint64(at, r() < 0.2 ? 0xffffffffffffffffn : BigInt(v), true);
        break;
      }
      case 4: // truncate
        b = b.slice(0, pick(b.length));
        break;
      case 5: {
        // grow with random bytes
        const extra = new Uint8Array(1 + pick(256));
        for (let i = 0; i < extra.length; i++) extra[i] = pick(256);
        const g = new Uint8Array(b.length + extra.length);
        g.set(b);
        g.set(extra, b.length);
        b = g;
        break;
      }
      case 6: {
        // splice a range of another seed over ours
        const o = seeds[pick(seeds.length)]!;
        const len = 1 + pick(Math.min(512, o.length));
        const from = pick(Math.max(1, o.length - len));
        const to = pick(Math.max(1, b.length - len));
        b.set(o.subarray(from, from + Math.min(len, b.length - to)), to);
        break;
      }
      case 7: {
        // zero a range
        const at = pick(b.length);
        b.fill(0, at, at + 1 + pick(64));
        break;
      }
      case 8: {
        // copy a range of ourselves elsewhere (repeated headers, tables pointing into tables)
        const len = 1 + pick(Math.min(128, b.length));
        const from = pick(Math.max(1, b.length - len));
        const to = pick(Math.max(1, b.length - len));
        b.copyWithin(to, from, from + len);
        break;
      }
    }
  }
  return b;
}
