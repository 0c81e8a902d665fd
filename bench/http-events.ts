// The trace_http loss bench's frame and event checks (bench/c/http_packet.h in TypeScript).
import { MapData } from "tsbpf";
import { struct, be32, u16 } from "tsbpf/types";

/** The probe's struct (bench/compiler/programs/trace_http.ts, examples/trace_http/shared.ts). */
export const RequestInfo = struct("RequestInfo", {
  saddr: be32,
  daddr: be32,
  sport: u16,
  dport: u16,
});

export const HTTP_SPORT = 40000;
export const HTTP_DPORT = 80;
export const HTTP_SADDR = 0x0a000001;
export const HTTP_DADDR = 0x0a000002;
export const HTTP_PAYLOAD_OFF = 54;
const REQUEST = "GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n";
export const HTTP_FRAME_LEN = HTTP_PAYLOAD_OFF + REQUEST.length;

/** Ethernet + IPv4 + TCP 10.0.0.1:40000 → 10.0.0.2:80 + an HTTP GET, as http_frame() builds. */
export function httpFrame(): Uint8Array {
  const f = new Uint8Array(HTTP_FRAME_LEN);
  const v = new DataView(f.buffer);
  f[12] = 0x08;
  f[14] = 0x45;
  v.setUint16(16, HTTP_FRAME_LEN - 14);
  f[22] = 64;
  f[23] = 6;
  v.setUint32(26, HTTP_SADDR);
  v.setUint32(30, HTTP_DADDR);
  v.setUint16(34, HTTP_SPORT);
  v.setUint16(36, HTTP_DPORT);
  f[46] = 5 << 4;
  f[47] = 0x18;
  f.set(new TextEncoder().encode(REQUEST), HTTP_PAYLOAD_OFF);
  return f;
}

/** The record header `struct { RequestInfo data; u32 offset; u32 size; }`, compiled. */
export const headerDecoder = MapData.header(RequestInfo).decoder();

/** Whether a decoded event is the one the frame makes (on_sample()'s checks). */
export function goodEvent(raw: Uint8Array): boolean {
  if (raw.length < MapData.headerSize(RequestInfo) + HTTP_FRAME_LEN) return false;
  const e = headerDecoder.decode(raw);
  return (
    e.data.saddr === HTTP_SADDR &&
    e.data.daddr === HTTP_DADDR &&
    e.data.sport === HTTP_SPORT &&
    e.data.dport === HTTP_DPORT &&
    e.offset === HTTP_PAYLOAD_OFF &&
    e.size === HTTP_FRAME_LEN
  );
}
