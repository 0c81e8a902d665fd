import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  attr,
  attrU32,
  decodeAttrs,
  decodeError,
  decodeMessages,
  encodeMessage,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  type Attr,
} from "../../../src/link/netlink.js";
import {
  bpfFilterRequest,
  decodeLinkXdp,
  IFLA_XDP,
  ifinfomsg,
  RTM_NEWLINK,
  RTM_SETLINK,
  tcParent,
  xdpSetLinkRequest,
} from "../../../src/link/rtnetlink.js";
import { FormatError } from "../../../src/link/errors.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("RTM_SETLINK IFLA_XDP request bytes (as iproute2/libbpf send them)", () => {
  const msg = xdpSetLinkRequest(7, 3, 42, 2 /* SKB_MODE */, 41);
  // nlmsghdr: len 60, type 19, flags REQUEST|ACK, seq 7, pid 0
  // ifinfomsg: family 0, type 0, index 3, flags 0, change 0
  // IFLA_XDP nested (0x802b) len 28: FD(1)=42, FLAGS(3)=2, EXPECTED_FD(8)=41
  assert.equal(
    hex(msg),
    "3c000000" +
      "1300" +
      "0500" +
      "07000000" +
      "00000000" +
      "00000000" +
      "03000000" +
      "00000000" +
      "00000000" +
      "1c00" +
      "2b80" +
      "0800" +
      "0100" +
      "2a000000" +
      "0800" +
      "0300" +
      "02000000" +
      "0800" +
      "0800" +
      "29000000",
  );
  const [m] = decodeMessages(msg);
  assert.equal(m!.type, RTM_SETLINK);
  assert.equal(m!.flags, NLM_F_REQUEST | NLM_F_ACK);
  const [xdp] = decodeAttrs(m!.payload.subarray(16));
  assert.equal(xdp!.type, IFLA_XDP);
  assert.ok(xdp!.nested);
  assert.deepEqual(
    decodeAttrs(xdp!.data).map((a) => [a.type, attrU32(a)]),
    [
      [1, 42],
      [3, 2],
      [8, 41],
    ],
  );
  // Detach: fd -1, no flags.
  const det = decodeMessages(xdpSetLinkRequest(8, 3, -1, 0))[0]!;
  const inner = decodeAttrs(decodeAttrs(det.payload.subarray(16))[0]!.data);
  assert.deepEqual(
    inner.map((a) => [a.type, attrU32(a)]),
    [[1, 0xffffffff]],
  );
});

test("NLMSG_ERROR: plain errno, ack, and extended-ack message (capped and uncapped)", () => {
  const req = xdpSetLinkRequest(9, 3, 42, 0);
  const build = (errno: number, flags: number, ext?: string) => {
    const echoed = flags & NLM_F_CAPPED ? req.subarray(0, 16) : req;
    const body = new Uint8Array(4 + echoed.length);
    new DataView(body.buffer).setInt32(0, -errno, true);
    body.set(echoed, 4);
    const tail = ext === undefined ? [] : [attr.str(1, ext)];
    const tlv = tail.length
      ? encodeMessage({
          type: 0,
          flags: 0,
          seq: 0,
          header: new Uint8Array(0),
          attrs: tail,
        }).subarray(16)
      : new Uint8Array(0);
    const header = new Uint8Array(body.length + tlv.length);
    header.set(body);
    header.set(tlv, body.length);
    return decodeMessages(encodeMessage({ type: NLMSG_ERROR, flags, seq: 9, header }))[0]!;
  };
  assert.deepEqual(decodeError(build(0, 0)), { errno: 0 });
  assert.deepEqual(decodeError(build(16, 0)), { errno: 16 });
  assert.deepEqual(
    decodeError(build(17, NLM_F_ACK_TLVS | NLM_F_CAPPED, "XDP program already attached")),
    {
      errno: 17,
      message: "XDP program already attached",
    },
  );
  assert.deepEqual(decodeError(build(22, NLM_F_ACK_TLVS, "bad fd")), {
    errno: 22,
    message: "bad fd",
  });
  assert.throws(
    () => decodeError({ type: 2, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(8) }),
    FormatError,
  );
});

test("RTM_NEWLINK XDP state decodes", () => {
  const header = ifinfomsg(5);
  const msg = encodeMessage({
    type: RTM_NEWLINK,
    flags: 0,
    seq: 1,
    header,
    attrs: [
      attr.str(3, "veth0"),
      attr.nested(IFLA_XDP, [
        { type: 2, data: new Uint8Array([2]) },
        attr.u32(4, 77),
        attr.u32(6, 77),
      ]),
    ],
  });
  assert.deepEqual(decodeLinkXdp(decodeMessages(msg)[0]!), {
    ifindex: 5,
    name: "veth0",
    attached: 2,
    progId: 77,
    drvProgId: 0,
    skbProgId: 77,
    hwProgId: 0,
  });
});

test("cls_bpf filter request: clsact parent, priority/protocol, direct-action", () => {
  assert.equal(tcParent("ingress"), 0xfffffff2);
  assert.equal(tcParent("egress"), 0xfffffff3);
  const m = decodeMessages(
    bpfFilterRequest(1, 4, "egress", { progFd: 9, handle: 1, priority: 1, name: "x" }),
  )[0]!;
  const dv = new DataView(m.payload.buffer, m.payload.byteOffset);
  assert.equal(dv.getInt32(4, true), 4);
  assert.equal(dv.getUint32(12, true), 0xfffffff3);
  assert.equal(dv.getUint32(16, true), 0x00010300); // prio 1, htons(ETH_P_ALL)
  const [kind, opts] = decodeAttrs(m.payload.subarray(20));
  assert.equal(Buffer.from(kind!.data).toString(), "bpf\0");
  const o = decodeAttrs(opts!.data);
  assert.deepEqual([o[0]!.type, attrU32(o[0]!)], [6, 9]);
  assert.deepEqual([o[2]!.type, attrU32(o[2]!)], [8, 1]);
});

const attrArb: fc.Arbitrary<Attr> = fc.letrec<{ a: Attr }>((tie) => ({
  a: fc.oneof(
    { depthSize: "small" },
    fc.record({
      type: fc.integer({ min: 0, max: 0x3fff }),
      data: fc.uint8Array({ maxLength: 20 }),
    }),
    fc.record({
      type: fc.integer({ min: 0, max: 0x3fff }),
      nested: fc.array(tie("a"), { maxLength: 3 }),
    }),
  ),
})).a;

function check(decoded: ReturnType<typeof decodeAttrs>, want: readonly Attr[]): void {
  assert.equal(decoded.length, want.length);
  want.forEach((w, i) => {
    const d = decoded[i]!;
    assert.equal(d.type, w.type);
    if ("data" in w) {
      assert.ok(!d.nested);
      assert.deepEqual(new Uint8Array(d.data), w.data);
    } else {
      assert.ok(d.nested);
      check(decodeAttrs(d.data), w.nested);
    }
  });
}

test("property: attributes round-trip through encode/decode", () => {
  fc.assert(
    fc.property(
      fc.array(attrArb, { maxLength: 5 }),
      fc.uint8Array({ maxLength: 24 }),
      (attrs, header) => {
        const msgs = decodeMessages(encodeMessage({ type: 16, flags: 0, seq: 3, header, attrs }));
        assert.equal(msgs.length, 1);
        const pad = (header.length + 3) & ~3;
        check(decodeAttrs(msgs[0]!.payload.subarray(pad)), attrs);
      },
    ),
  );
});

test("property: arbitrary replies decode or fail with FormatError only", () => {
  const guard = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
  };
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 0, max: 0xffff }),
      (bytes, flags) => {
        guard(() => {
          for (const m of decodeMessages(bytes)) {
            guard(() => decodeError({ ...m, flags }));
            guard(() => decodeLinkXdp({ ...m, type: RTM_NEWLINK }));
          }
        });
        guard(() => decodeAttrs(bytes));
      },
    ),
    { numRuns: 1000 },
  );
});
