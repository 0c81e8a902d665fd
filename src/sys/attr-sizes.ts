// How many bytes of `union bpf_attr` each command's encoder writes: through which member of the
// command's struct in the union (include/uapi/linux/bpf.h). The kernel accepts a longer attr
// whose tail is zero, so these are the sizes of the newest layout we fill in.
// test/kernel/sys/attr-sizes.test.ts checks each against the running kernel's
// `union bpf_attr` in /sys/kernel/btf/vmlinux.

export interface AttrSize {
  /** bytes the encoder writes */
  readonly size: number;
  /** the command's struct in the union: its member name, or a member only that struct has */
  readonly struct: { readonly named: string } | { readonly has: string };
  /**
   * the last member the encoder covers (`size` is its end, rounded up to 8 at most); absent:
   * the whole struct (`size` is its sizeof)
   */
  readonly last?: string;
  /** first kernel release with `last` (or with the struct at this size), when later than 6.1 */
  readonly since?: string;
}

// prettier-ignore
export const ATTR = {
  MAP_CREATE: { size: 80, struct: { has: "map_type" }, last: "map_token_fd", since: "6.9" },
  MAP_ELEM: { size: 32, struct: { has: "key" }, last: "flags" },
  MAP_BATCH: { size: 56, struct: { named: "batch" }, last: "flags" },
  PROG_LOAD: { size: 152, struct: { has: "prog_type" }, last: "fd_array_cnt", since: "6.14" },
  OBJ_PIN_GET: { size: 20, struct: { has: "pathname" }, last: "path_fd", since: "6.5" },
  PROG_ATTACH: { size: 32, struct: { has: "attach_bpf_fd" }, last: "expected_revision", since: "6.6" },
  PROG_TEST_RUN: { size: 76, struct: { named: "test" }, last: "batch_size" },
  GET_ID: { size: 12, struct: { has: "next_id" }, last: "open_flags" },
  OBJ_GET_INFO_BY_FD: { size: 16, struct: { named: "info" }, last: "info" },
  PROG_QUERY: { size: 64, struct: { named: "query" }, last: "revision", since: "6.6" },
  RAW_TRACEPOINT_OPEN: { size: 16, struct: { named: "raw_tracepoint" }, last: "prog_fd" },
  RAW_TRACEPOINT_OPEN_COOKIE: { size: 24, struct: { named: "raw_tracepoint" }, last: "cookie", since: "6.10" },
  BTF_LOAD: { size: 40, struct: { has: "btf_log_buf" }, last: "btf_token_fd", since: "6.9" },
  LINK_CREATE: { size: 64, struct: { named: "link_create" }, since: "6.6" },
  LINK_UPDATE: { size: 16, struct: { named: "link_update" } },
  LINK_DETACH: { size: 4, struct: { named: "link_detach" }, last: "link_fd" },
  ENABLE_STATS: { size: 4, struct: { named: "enable_stats" }, last: "type" },
  ITER_CREATE: { size: 8, struct: { named: "iter_create" }, last: "flags" },
  PROG_BIND_MAP: { size: 12, struct: { named: "prog_bind_map" }, last: "flags" },
} as const satisfies Record<string, AttrSize>;
