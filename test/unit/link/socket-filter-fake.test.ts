// attachSocketFilter's fd ownership and errno mapping against the fake addon
// (test/support/fake-kernel.ts); test/kernel/link/socket-filter.test.ts runs it on Linux.
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { FakeKernel } from "../../support/fake-kernel.js";
import { attachSocketFilter } from "../../../src/link/socket-filter.js";
import { AttachError } from "../../../src/link/errors.js";
import { ProgType } from "../../../src/obj/consts.js";

let kernel: FakeKernel;
let restore: () => void;
beforeEach(() => {
  kernel = new FakeKernel();
  restore = kernel.install();
});
afterEach(() => restore());

const prog = (fd: number, type: number = ProgType.SOCKET_FILTER) => ({ fd, name: "keep", type });

test("close() twice detaches once and closes the link's own socket reference once", () => {
  const sock = kernel.openSocket();
  const p = kernel.openProgram();
  const link = attachSocketFilter(prog(p), sock);
  assert.equal(kernel.socketOf(sock)?.attached, p);
  assert.equal(kernel.openFds.length, 3, "socket, program and the link's duplicate of the socket");
  link.close();
  assert.equal(kernel.socketOf(sock)?.attached, undefined, "detached");
  assert.deepEqual(kernel.openFds.sort(), [sock, p].sort(), "the duplicate is closed");
  const closes = kernel.closes.length;
  link.close();
  assert.equal(kernel.closes.length, closes, "the second close() does nothing");
});

test("the link detaches from the very socket even after the caller closed its fd", () => {
  const sock = kernel.openSocket();
  const p = kernel.openProgram();
  const link = attachSocketFilter(prog(p), sock);
  const dup = kernel.openFds.find((fd) => fd !== sock && fd !== p)!;
  const socket = kernel.socketOf(sock)!;
  kernel.close(sock);
  assert.equal(socket.attached, p);
  link.close();
  assert.equal(socket.attached, undefined, "detached through the link's own reference");
  assert.equal(kernel.socketOf(dup), undefined, "the duplicate is closed");
  assert.deepEqual(kernel.openFds, [p]);
});

test("errnos: not a socket (or no fd) is an AttachError naming the fd; the program's kind is checked first", () => {
  const p = kernel.openProgram();
  assert.throws(
    () => attachSocketFilter(prog(p), p),
    (e: unknown) => e instanceof AttachError && /fd \d+ is not an open socket/.test(e.message),
  );
  assert.throws(() => attachSocketFilter(prog(p), 9999), AttachError); // EBADF
  const sock = kernel.openSocket();
  assert.throws(
    () => attachSocketFilter(prog(p, ProgType.XDP), sock),
    (e: unknown) =>
      e instanceof AttachError && /is a XDP program, not SOCKET_FILTER/.test(e.message),
  );
  assert.equal(kernel.socketOf(sock)?.attached, undefined);
  assert.deepEqual(kernel.openFds.sort(), [p, sock].sort(), "failed attaches keep no fd");
});
