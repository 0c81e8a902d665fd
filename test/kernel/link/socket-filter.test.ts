import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { ProgType } from "../../../src/obj/consts.js";
import { native } from "../../../src/sys/native.js";
import { AttachError, attachSocketFilter } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { countingProgram } from "./programs.js";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

/** A UDP socket of our own on 127.0.0.1 (native fd) and its port. */
function udpSocket(): { fd: number; port: number } {
  const n = native();
  const fd = n.socket(AF_INET, SOCK_DGRAM, 0);
  assert.ok(fd >= 0, `socket: ${fd}`);
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const sa = new Uint8Array(16);
    const dv = new DataView(sa.buffer);
    dv.setUint16(0, AF_INET, true);
    dv.setUint16(2, port, false);
    sa.set([127, 0, 0, 1], 4);
    if (n.bind(fd, sa) === 0) return { fd, port };
  }
  n.close(fd);
  throw new Error("no free UDP port on 127.0.0.1");
}

async function sendUdp(port: number, count: number): Promise<void> {
  const s = createSocket("udp4");
  try {
    for (let i = 0; i < count; i++)
      await new Promise<void>((res, rej) =>
        s.send(`packet ${i}`, port, "127.0.0.1", (e) => (e ? rej(e) : res())),
      );
  } finally {
    s.close();
  }
  await new Promise((r) => setTimeout(r, 50));
}

/** Datagrams waiting on the socket (drained). */
function drain(fd: number): string[] {
  const buf = new Uint8Array(2048);
  const out: string[] = [];
  for (;;) {
    const r = native().recv(fd, buf, MSG_DONTWAIT);
    if (r === -EAGAIN) return out;
    assert.ok(r >= 0, `recv: ${r}`);
    out.push(Buffer.from(buf.subarray(0, r)).toString());
  }
}

test("socket filter sees a loopback UDP socket's packets; a 0 verdict drops them; close() detaches", async (t) => {
  if (!needsKernel(t)) return;
  const sock = udpSocket();
  try {
    using keep = countingProgram({ type: ProgType.SOCKET_FILTER, name: "sf_keep", ret: -1 });
    const link = attachSocketFilter(keep, sock.fd);
    assert.equal(link.kind, "socket_filter");
    await sendUdp(sock.port, 4);
    assert.deepEqual(drain(sock.fd), ["packet 0", "packet 1", "packet 2", "packet 3"]);
    assert.equal(keep.read(), 4n);
    link.close();
    await sendUdp(sock.port, 2);
    assert.equal(drain(sock.fd).length, 2);
    assert.equal(keep.read(), 4n, "not run after close()");

    using drop = countingProgram({ type: ProgType.SOCKET_FILTER, name: "sf_drop", ret: 0 });
    const dropLink = attachSocketFilter(drop, sock.fd);
    await sendUdp(sock.port, 3);
    assert.deepEqual(drain(sock.fd), [], "the filter dropped every packet");
    assert.equal(drop.read(), 3n);
    dropLink.close();
    await sendUdp(sock.port, 1);
    assert.deepEqual(drain(sock.fd), ["packet 0"], "packets flow again after close()");
  } finally {
    native().close(sock.fd);
  }
});

test("socket filter errors: not a socket, wrong program type", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({ type: ProgType.SOCKET_FILTER, name: "sf_err", ret: -1 });
  assert.throws(
    () => attachSocketFilter(prog, 0x7fff),
    (e: unknown) => e instanceof AttachError && /fd 32767 is not an open socket/.test(e.message),
  );
  using xdp = countingProgram({ type: ProgType.XDP, name: "sf_xdp", ret: 2 });
  const sock = udpSocket();
  try {
    assert.throws(() => attachSocketFilter(xdp, sock.fd), /not SOCKET_FILTER/);
  } finally {
    native().close(sock.fd);
  }
});
