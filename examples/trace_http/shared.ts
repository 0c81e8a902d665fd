// One definition of the event, used by the probe (layout, BTF) and by user space (decoding).
// Byte-for-byte the C reference's `struct RequestInfo` (c/trace_http.h).
import { struct, be32, u16, type Infer } from "tsbpf/types";

/**
 * One HTTP request seen by the probe. Addresses are IPv4 in network byte order (`be32`: they
 * decode as numbers, 10.0.0.1 is 0x0a000001), 0 for IPv6 requests (whose addresses are in the
 * packet bytes that follow). Ports are host-order numbers.
 */
export const RequestInfo = struct("RequestInfo", {
  saddr: be32,
  daddr: be32,
  sport: u16,
  dport: u16,
});
export type RequestInfo = Infer<typeof RequestInfo>;
