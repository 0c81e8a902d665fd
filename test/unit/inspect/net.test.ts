// Decoding what `tsbpf net` reads from netlink: cls_bpf filters and XDP modes (pure parts of
// src/inspect/net.ts), known bytes and fuzzed replies (typed errors only).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { attr, encodeMessage, decodeMessages } from "../../../src/link/netlink.js";
import {
  tcmsg,
  ifinfomsg,
  RTM_NEWLINK,
  IFLA_IFNAME,
  IFLA_XDP,
  IFLA_XDP_ATTACHED,
  IFLA_XDP_PROG_ID,
  IFLA_XDP_DRV_PROG_ID,
  IFLA_XDP_SKB_PROG_ID,
} from "../../../src/link/rtnetlink.js";
import { FormatError } from "../../../src/link/errors.js";
import { decodeBpfFilter, xdpAttachments } from "../../../src/inspect/net.js";

const RTM_NEWTFILTER = 44;

function filterReply(opts: Uint8Array[] | undefined, kind = "bpf") {
  const bytes = encodeMessage({
    type: RTM_NEWTFILTER,
    flags: 0,
    seq: 1,
    header: tcmsg(3, 1, 0xfffffff2, ((49152 << 16) | 0x0300) >>> 0),
    attrs: [
      attr.str(1, kind),
      ...(opts
        ? [attr.nested(2, [attr.u32(11, 77), attr.str(7, "tc_count.o:[tc]"), attr.u32(8, 1)])]
        : []),
    ],
  });
  return decodeMessages(bytes)[0]!;
}

test("a cls_bpf filter: program id, name, priority, handle, direct-action", () => {
  assert.deepEqual(decodeBpfFilter(filterReply([]), "ingress"), {
    direction: "ingress",
    kind: "cls_bpf",
    progId: 77,
    name: "tc_count.o:[tc]",
    priority: 49152,
    handle: 1,
    directAction: true,
  });
  assert.equal(
    decodeBpfFilter(filterReply(undefined), "ingress"),
    undefined,
    "a chain head without options",
  );
  assert.equal(decodeBpfFilter(filterReply([], "u32"), "egress"), undefined, "another classifier");
});

test("XDP modes out of RTM_NEWLINK: one entry per mode in use", () => {
  const link = (attached: number, ids: [number, number][]) =>
    decodeMessages(
      encodeMessage({
        type: RTM_NEWLINK,
        flags: 0,
        seq: 1,
        header: ifinfomsg(5),
        attrs: [
          attr.str(IFLA_IFNAME, "veth0"),
          attr.nested(IFLA_XDP, [
            { type: IFLA_XDP_ATTACHED, data: new Uint8Array([attached]) },
            ...ids.map(([t, v]) => attr.u32(t, v)),
          ]),
        ],
      }),
    )[0]!;
  assert.deepEqual(xdpAttachments(link(2, [[IFLA_XDP_PROG_ID, 9]])), {
    ifindex: 5,
    name: "veth0",
    xdp: [{ mode: "generic", progId: 9 }],
  });
  assert.deepEqual(
    xdpAttachments(
      link(4, [
        [IFLA_XDP_DRV_PROG_ID, 3],
        [IFLA_XDP_SKB_PROG_ID, 4],
      ]),
    ).xdp,
    [
      { mode: "driver", progId: 3 },
      { mode: "generic", progId: 4 },
    ],
  );
  assert.deepEqual(xdpAttachments(link(0, [])).xdp, []);
});

test("fuzz: any filter reply decodes or throws FormatError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (payload) => {
      try {
        decodeBpfFilter({ type: RTM_NEWTFILTER, flags: 0, seq: 0, pid: 0, payload }, "ingress");
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
  );
});
