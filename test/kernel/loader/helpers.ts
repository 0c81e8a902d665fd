// Shared by the loader kernel tests: little-endian helpers and packets for BPF_PROG_TEST_RUN.
/** Little-endian u32 key. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** Little-endian u64 at `off` of a map value (undefined → undefined). */
export function u64(v: Uint8Array | undefined, off = 0): bigint | undefined {
  return v && new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(off, true);
}

/** An Ethernet + IPv4 + UDP frame of `length` bytes to `dport` (checksums left zero). */
export function udpFrame(dport: number, length = 64): Uint8Array {
  const f = new Uint8Array(length);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x0800); // ETH_P_IP
  f[14] = 0x45; // version 4, ihl 5
  dv.setUint16(16, length - 14); // total length
  f[22] = 64; // ttl
  f[23] = 17; // IPPROTO_UDP
  f.set([10, 0, 0, 1], 26);
  f.set([10, 0, 0, 2], 30);
  dv.setUint16(34, 40000); // sport
  dv.setUint16(36, dport);
  dv.setUint16(38, length - 34);
  return f;
}
