// tsbpf native addon: the thin, boring layer between TypeScript and the kernel.
//
// Every function here is a direct syscall (or libuv call) with no policy. Syscalls return
// their result, or -errno on failure, so the TypeScript layer (src/sys) builds typed errors
// with hints. Only misuse of the API itself (wrong argument types) throws from C.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      const napi_extended_error_info* info_ = NULL;                    \
      napi_get_last_error_info(env, &info_);                           \
      bool pending_ = false;                                           \
      napi_is_exception_pending(env, &pending_);                       \
      if (!pending_)                                                   \
        napi_throw_error(env, NULL,                                    \
                         info_ && info_->error_message                 \
                             ? info_->error_message                    \
                             : "tsbpf native: N-API call failed");     \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

#define ARGS(n)                                                        \
  size_t argc = (n);                                                   \
  napi_value argv[(n) > 0 ? (n) : 1];                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));         \
  if (argc < (size_t)(n)) {                                            \
    napi_throw_type_error(env, NULL, "tsbpf native: missing arguments"); \
    return NULL;                                                       \
  }

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

static napi_value result_or_errno(napi_env env, long r) {
  return make_int(env, r < 0 ? -(int64_t)errno : (int64_t)r);
}

static bool get_i32(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: expected a number");
    return false;
  }
  return true;
}

static bool get_i64(napi_env env, napi_value v, int64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_bigint) {
    bool lossless;
    uint64_t u;
    if (napi_get_value_bigint_uint64(env, v, &u, &lossless) != napi_ok) {
      napi_throw_type_error(env, NULL, "tsbpf native: expected a bigint");
      return false;
    }
    *out = (int64_t)u;
    return true;
  }
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: expected a number or bigint");
    return false;
  }
  return true;
}

// Bytes of any ArrayBufferView (typed array or DataView).
static bool get_bytes(napi_env env, napi_value v, void** data, size_t* len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    void* base;
    if (napi_get_typedarray_info(env, v, &type, &length, &base, &ab, &offset) != napi_ok)
      return false;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array:
        elem = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        elem = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        elem = 8;
        break;
      default:
        elem = 1;
    }
    *data = base;
    *len = length * elem;
    return true;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_value ab;
    size_t offset;
    return napi_get_dataview_info(env, v, len, data, &ab, &offset) == napi_ok;
  }
  napi_throw_type_error(env, NULL, "tsbpf native: expected a Uint8Array or other ArrayBufferView");
  return false;
}

static bool get_string(napi_env env, napi_value v, char* buf, size_t cap) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: expected a string");
    return false;
  }
  if (n + 1 >= cap) {
    napi_throw_range_error(env, NULL, "tsbpf native: string too long");
    return false;
  }
  return true;
}

// bpf(cmd, attr) -> result | -errno. The attr size is the view's byteLength.
static napi_value js_bpf(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t cmd;
  void* attr;
  size_t len;
  if (!get_i32(env, argv[0], &cmd) || !get_bytes(env, argv[1], &attr, &len)) return NULL;
  long r = syscall(__NR_bpf, cmd, attr, (unsigned int)len);
  return result_or_errno(env, r);
}

// mapElem(cmd, fd, keyAddr, valueAddr, flags) -> 0 | -errno: a map element command
// (LOOKUP/UPDATE/DELETE/GET_NEXT_KEY) with its union bpf_attr built here, from plain numbers,
// instead of a 32-byte attr written in JS (two BigInt stores) and resolved as a typed array
// per call. Addresses come from addressOf() of buffers the caller keeps alive; x86-64 and
// arm64 user addresses are below 2^53, so a double holds them exactly.
static napi_value js_map_elem(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t cmd, fd;
  int64_t key, value, flags;
  if (!get_i32(env, argv[0], &cmd) || !get_i32(env, argv[1], &fd)) return NULL;
  if (napi_get_value_int64(env, argv[2], &key) != napi_ok ||
      napi_get_value_int64(env, argv[3], &value) != napi_ok ||
      napi_get_value_int64(env, argv[4], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: mapElem takes numbers");
    return NULL;
  }
  // struct { __u32 map_fd; __aligned_u64 key; __aligned_u64 value; __u64 flags; } of union bpf_attr
  uint64_t attr[4] = {(uint32_t)fd, (uint64_t)key, (uint64_t)value, (uint64_t)flags};
  long r = syscall(__NR_bpf, cmd, attr, (unsigned int)sizeof attr);
  return result_or_errno(env, r);
}

// The area a ring buffer walk reads: the data area mapped twice (2 × size bytes, size a power
// of two, 8-aligned) and a published span inside one ring. A detached (unmapped) or malformed
// area walks nothing; the JS walker reports what is wrong.
static bool ringbuf_area_ok(const void* data, size_t size, int64_t pos, int64_t avail) {
  return data != NULL && size >= 8 && (size & (size - 1)) == 0 && ((uintptr_t)data & 7) == 0 &&
         pos >= 0 && avail >= 0 && (uint64_t)avail <= size;
}

// The next committed record of a walk, `used` bytes past `pos`: its header acquire-loaded into
// *hdr and its footprint (header + payload, 8-aligned) into *total. False where every walk
// stops: the end of what was published, a BUSY record, anything malformed.
static bool ringbuf_next(const char* data, uint64_t mask, uint64_t pos, uint64_t avail,
                         uint64_t used, uint32_t* hdr, uint64_t* total) {
  if (used >= avail || avail - used < 8) return false;
  uint64_t off = (pos + used) & mask;
  if ((off & 7) != 0) return false;
  *hdr = __atomic_load_n((const uint32_t*)(data + off), __ATOMIC_ACQUIRE);
  if (*hdr & 0x80000000u) return false; /* BUSY: not committed yet */
  *total = ((uint64_t)(*hdr & 0x3fffffffu) + 8 + 7) & ~(uint64_t)7;
  return *total <= avail - used;
}

// ringbufScan(data, pos, avail, out) -> n: acquire-load the headers of the committed records
// of a BPF ring buffer, starting at byte `pos` of the data area, within `avail` published
// bytes, into out[0..n) (raw header words). `data` is the data area mapped twice (2 × size
// bytes). Stops at the first BUSY record, at anything malformed (the JS walker re-reads that
// record and reports it), or when `out` is full. Each header is read with acquire semantics,
// as libbpf does (smp_load_acquire): the record bytes the caller reads after this call
// returns are ordered after the commit that cleared BUSY — on every architecture, and without
// an Atomics.load per record on the JS side (a builtin call, ~13 ns on Node 20).
static napi_value js_ringbuf_scan(napi_env env, napi_callback_info info) {
  ARGS(4);
  void* data;
  void* outp;
  size_t len, out_len;
  int64_t pos, avail;
  if (!get_bytes(env, argv[0], &data, &len)) return NULL;
  if (napi_get_value_int64(env, argv[1], &pos) != napi_ok ||
      napi_get_value_int64(env, argv[2], &avail) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: ringbufScan takes numbers");
    return NULL;
  }
  if (!get_bytes(env, argv[3], &outp, &out_len)) return NULL;
  size_t size = len / 2;
  if (!ringbuf_area_ok(data, size, pos, avail) || ((uintptr_t)outp & 3) != 0)
    return make_int(env, 0);
  uint32_t* out = outp;
  const size_t cap = out_len / 4;
  uint64_t used = 0, total;
  uint32_t hdr;
  size_t n = 0;
  const uint64_t mask = size - 1;
  while (n < cap &&
         ringbuf_next(data, mask, (uint64_t)pos, (uint64_t)avail, used, &hdr, &total)) {
    out[n++] = hdr;
    used += total;
  }
  return make_int(env, (int64_t)n);
}

// ringbufCollect(data, pos, avail, offsets, lengths, meta) -> n: the batch form of ringbufScan.
// Acquire-loads headers like ringbufScan and writes, for each committed record that is not
// discarded, the byte offset of its payload in `data` and its length, up to the capacity of
// `offsets`; meta[0] receives the bytes walked (discarded records included), so the caller
// advances the consumer position without a JS step per record. Stops where ringbufScan stops
// (BUSY, malformed, out full); the JS walker re-reads a malformed record and reports it.
static napi_value js_ringbuf_collect(napi_env env, napi_callback_info info) {
  ARGS(6);
  void *data, *offp, *lenp, *metap;
  size_t len, off_len, len_len, meta_len;
  int64_t pos, avail;
  if (!get_bytes(env, argv[0], &data, &len)) return NULL;
  if (napi_get_value_int64(env, argv[1], &pos) != napi_ok ||
      napi_get_value_int64(env, argv[2], &avail) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsbpf native: ringbufCollect takes numbers");
    return NULL;
  }
  if (!get_bytes(env, argv[3], &offp, &off_len) || !get_bytes(env, argv[4], &lenp, &len_len) ||
      !get_bytes(env, argv[5], &metap, &meta_len))
    return NULL;
  size_t size = len / 2;
  if (meta_len < 4 || ((uintptr_t)metap & 3) != 0) {
    napi_throw_type_error(env, NULL, "tsbpf native: ringbufCollect needs a Uint32Array meta");
    return NULL;
  }
  uint32_t* meta = metap;
  meta[0] = 0;
  if (!ringbuf_area_ok(data, size, pos, avail) || ((uintptr_t)offp & 3) != 0 ||
      ((uintptr_t)lenp & 3) != 0)
    return make_int(env, 0);
  uint32_t* offs = offp;
  uint32_t* lens = lenp;
  const size_t cap = (off_len < len_len ? off_len : len_len) / 4;
  const uint64_t mask = size - 1;
  uint64_t used = 0, total;
  uint32_t hdr;
  size_t n = 0;
  while (n < cap &&
         ringbuf_next(data, mask, (uint64_t)pos, (uint64_t)avail, used, &hdr, &total)) {
    if (!(hdr & 0x40000000u)) { /* not DISCARDed */
      offs[n] = (uint32_t)((((uint64_t)pos + used) & mask) + 8);
      lens[n] = hdr & 0x3fffffffu;
      n++;
    }
    used += total;
  }
  meta[0] = (uint32_t)used;
  return make_int(env, (int64_t)n);
}

// addressOf(view) -> bigint: the address of the view's first byte, for u64 pointer fields.
static napi_value js_address_of(napi_env env, napi_callback_info info) {
  ARGS(1);
  void* data;
  size_t len;
  if (!get_bytes(env, argv[0], &data, &len)) return NULL;
  napi_value out;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)data, &out));
  return out;
}

// perfEventOpen(attr, pid, cpu, groupFd, flags) -> fd | -errno
static napi_value js_perf_event_open(napi_env env, napi_callback_info info) {
  ARGS(5);
  void* attr;
  size_t len;
  int32_t pid, cpu, group, flags;
  if (!get_bytes(env, argv[0], &attr, &len) || !get_i32(env, argv[1], &pid) ||
      !get_i32(env, argv[2], &cpu) || !get_i32(env, argv[3], &group) ||
      !get_i32(env, argv[4], &flags))
    return NULL;
  long r = syscall(__NR_perf_event_open, attr, pid, cpu, group, (unsigned long)flags);
  return result_or_errno(env, r);
}

// ioctl(fd, request, arg: number | bigint) -> result | -errno
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  int64_t req, arg;
  if (!get_i32(env, argv[0], &fd) || !get_i64(env, argv[1], &req) || !get_i64(env, argv[2], &arg))
    return NULL;
  long r = ioctl(fd, (unsigned long)req, (unsigned long)arg);
  return result_or_errno(env, r);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!get_i32(env, argv[0], &fd)) return NULL;
  return result_or_errno(env, close(fd));
}

static napi_value js_dup(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!get_i32(env, argv[0], &fd)) return NULL;
  return result_or_errno(env, fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

static napi_value js_page_size(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int(env, sysconf(_SC_PAGESIZE));
}

// ---- mmap: zero-copy external ArrayBuffers over kernel mappings ----

typedef struct {
  void* addr;
  size_t len;
} mapping_t;

// Marks ArrayBuffers made by mmap() so munmap() never detaches someone else's buffer.
static const napi_type_tag MAPPING_TAG = {0x7473627066d0a11eULL, 0x6d6d61702d746167ULL};

// Runs when the ArrayBuffer's backing store goes away: on GC, or after munmap() detached it.
static void unmap_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  mapping_t* m = hint;
  munmap(m->addr, m->len);
  free(m);
}

// mmap(fd, length, prot, flags, offset) -> ArrayBuffer | -errno
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, prot, flags;
  int64_t length, offset;
  if (!get_i32(env, argv[0], &fd) || !get_i64(env, argv[1], &length) ||
      !get_i32(env, argv[2], &prot) || !get_i32(env, argv[3], &flags) ||
      !get_i64(env, argv[4], &offset))
    return NULL;
  if (length <= 0) return make_int(env, -EINVAL);
  void* addr = mmap(NULL, (size_t)length, prot, flags, fd, (off_t)offset);
  if (addr == MAP_FAILED) return make_int(env, -errno);
  mapping_t* m = malloc(sizeof *m);
  if (!m) {
    munmap(addr, (size_t)length);
    return make_int(env, -ENOMEM);
  }
  m->addr = addr;
  m->len = (size_t)length;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, unmap_finalize, m, &ab) !=
      napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    napi_throw_error(env, NULL, "tsbpf native: cannot wrap mapping in an ArrayBuffer");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ab, &MAPPING_TAG));
  return ab;
}

// munmap(ab): detach the ArrayBuffer so JS can no longer touch the pages; the finalizer that
// the detach triggers does the actual munmap (exactly once).
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  ARGS(1);
  bool ours = false, detached = false;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[0], &t));
  if (t == napi_object) CHECK(napi_check_object_type_tag(env, argv[0], &MAPPING_TAG, &ours));
  if (!ours) {
    napi_throw_type_error(env, NULL, "tsbpf native: munmap() takes an ArrayBuffer returned by mmap()");
    return NULL;
  }
  CHECK(napi_is_detached_arraybuffer(env, argv[0], &detached));
  if (!detached) CHECK(napi_detach_arraybuffer(env, argv[0]));
  return make_int(env, 0);
}

// ---- fd readiness through libuv (never blocks the event loop) ----

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  bool stopped;  // uv_close requested
  bool closed;   // uv close callback ran
  bool orphaned; // the JS external was finalized
} poll_t;

static void poll_on_close(uv_handle_t* h) {
  poll_t* p = h->data;
  p->closed = true;
  if (p->orphaned) free(p);
}

static void poll_stop(poll_t* p) {
  if (p->stopped) return;
  p->stopped = true;
  uv_poll_stop(&p->handle);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  p->callback = NULL;
  if (p->async) napi_async_destroy(p->env, p->async);
  p->async = NULL;
  uv_close((uv_handle_t*)&p->handle, poll_on_close);
}

static void poll_on_event(uv_poll_t* h, int status, int events) {
  poll_t* p = h->data;
  if (p->stopped || !p->callback) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, args[2], result;
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, status, &args[0]) == napi_ok &&
      napi_create_int32(env, events, &args[1]) == napi_ok) {
    napi_status s = napi_make_callback(env, p->async, recv, cb, 2, args, &result);
    if (s == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void poll_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  poll_t* p = data;
  p->orphaned = true;
  if (!p->stopped) poll_stop(p);
  else if (p->closed) free(p);
}

static poll_t* get_poll(napi_env env, napi_value v) {
  void* data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "tsbpf native: expected a poll handle");
    return NULL;
  }
  return data;
}

// pollStart(fd, events, callback(status, events)) -> handle. events: UV_READABLE=1,
// UV_WRITABLE=2, UV_DISCONNECT=4, UV_PRIORITIZED=8. The handle keeps the loop alive until
// pollStop or pollUnref.
static napi_value js_poll_start(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, events;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &events)) return NULL;
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poll_t* p = calloc(1, sizeof *p);
  if (!p) {
    napi_throw_error(env, NULL, "tsbpf native: out of memory");
    return NULL;
  }
  p->env = env;
  int r = uv_poll_init(loop, &p->handle, fd);
  if (r != 0) {
    free(p);
    return make_int(env, r);  // libuv errors are -errno on Linux
  }
  p->handle.data = p;
  napi_value name;
  if (napi_create_reference(env, argv[2], 1, &p->callback) != napi_ok ||
      napi_create_string_utf8(env, "tsbpf:poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &p->async) != napi_ok) {
    p->orphaned = true;  // freed by the close callback
    poll_stop(p);
    napi_throw_error(env, NULL, "tsbpf native: cannot set up the poll callback");
    return NULL;
  }
  r = uv_poll_start(&p->handle, events, poll_on_event);
  if (r != 0) {
    p->orphaned = true;  // freed by the close callback
    poll_stop(p);
    return make_int(env, r);
  }
  napi_value ext;
  CHECK(napi_create_external(env, p, poll_finalize, NULL, &ext));
  return ext;
}

static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  poll_t* p = get_poll(env, argv[0]);
  if (!p) return NULL;
  poll_stop(p);
  return make_int(env, 0);
}

// pollRef(handle, ref: boolean): whether a waiting poll keeps the process alive.
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  poll_t* p = get_poll(env, argv[0]);
  bool ref;
  if (!p) return NULL;
  CHECK(napi_get_value_bool(env, argv[1], &ref));
  if (!p->stopped) {
    if (ref) uv_ref((uv_handle_t*)&p->handle);
    else uv_unref((uv_handle_t*)&p->handle);
  }
  return make_int(env, 0);
}

// ---- sockets (netlink), eventfd, plain read/write ----

static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, proto;
  if (!get_i32(env, argv[0], &domain) || !get_i32(env, argv[1], &type) ||
      !get_i32(env, argv[2], &proto))
    return NULL;
  return result_or_errno(env, socket(domain, type | SOCK_CLOEXEC, proto));
}

// bind(fd, sockaddr bytes)
static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void* addr;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &addr, &len)) return NULL;
  return result_or_errno(env, bind(fd, addr, (socklen_t)len));
}

static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  void* val;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &level) ||
      !get_i32(env, argv[2], &name) || !get_bytes(env, argv[3], &val, &len))
    return NULL;
  return result_or_errno(env, setsockopt(fd, level, name, val, (socklen_t)len));
}

// getsockopt(fd, level, name, buf): the option's length, or -errno (SO_PEERCRED: struct ucred)
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  void* val;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &level) ||
      !get_i32(env, argv[2], &name) || !get_bytes(env, argv[3], &val, &len))
    return NULL;
  socklen_t got = (socklen_t)len;
  if (getsockopt(fd, level, name, val, &got) < 0) return make_int(env, -(int64_t)errno);
  return make_int(env, (int64_t)got);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags;
  void* buf;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &buf, &len) ||
      !get_i32(env, argv[2], &flags))
    return NULL;
  return result_or_errno(env, send(fd, buf, len, flags));
}

static napi_value js_recv(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags;
  void* buf;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &buf, &len) ||
      !get_i32(env, argv[2], &flags))
    return NULL;
  return result_or_errno(env, recv(fd, buf, len, flags));
}

static napi_value js_read(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void* buf;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &buf, &len)) return NULL;
  return result_or_errno(env, read(fd, buf, len));
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void* buf;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_bytes(env, argv[1], &buf, &len)) return NULL;
  return result_or_errno(env, write(fd, buf, len));
}

// eventfd(initval, flags) -> fd | -errno (always close-on-exec)
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t init, flags;
  if (!get_i32(env, argv[0], &init) || !get_i32(env, argv[1], &flags)) return NULL;
  return result_or_errno(env, eventfd((unsigned int)init, flags | EFD_CLOEXEC));
}

// mount(source, target, fstype, flags) -> 0 | -errno (for bpffs / tracefs)
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(4);
  char source[256], target[4096], fstype[64];
  int64_t flags;
  if (!get_string(env, argv[0], source, sizeof source) ||
      !get_string(env, argv[1], target, sizeof target) ||
      !get_string(env, argv[2], fstype, sizeof fstype) || !get_i64(env, argv[3], &flags))
    return NULL;
  return result_or_errno(env, mount(source, target, fstype, (unsigned long)flags, NULL));
}

static napi_value js_if_name_to_index(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IF_NAMESIZE + 1];
  if (!get_string(env, argv[0], name, sizeof name)) return NULL;
  unsigned int idx = if_nametoindex(name);
  return make_int(env, idx == 0 ? -(int64_t)errno : (int64_t)idx);
}

static napi_value make_string_or_null(napi_env env, const char* s) {
  napi_value out;
  if (s == NULL) {
    if (napi_get_null(env, &out) != napi_ok) return NULL;
    return out;
  }
  if (napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out) != napi_ok) return NULL;
  return out;
}

// errnoName(errno) -> "EPERM" | null (libc without strerrorname_np, or unknown)
static napi_value js_errno_name(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t e;
  if (!get_i32(env, argv[0], &e)) return NULL;
// Prebuilt binaries (binding.gyp's tsbpf_portable) stay loadable on glibc 2.28, Node 20's floor.
#if defined(__GLIBC__) && !defined(TSBPF_NO_STRERRORNAME_NP) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  return make_string_or_null(env, strerrorname_np(e));
#else
  return make_string_or_null(env, NULL);
#endif
}

static napi_value js_strerror(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t e;
  if (!get_i32(env, argv[0], &e)) return NULL;
  char buf[256];
  // GNU strerror_r returns a pointer that may or may not be buf.
  return make_string_or_null(env, strerror_r(e, buf, sizeof buf));
}

#define EXPORT(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT("bpf", js_bpf),
      EXPORT("addressOf", js_address_of),
      EXPORT("mapElem", js_map_elem),
      EXPORT("ringbufScan", js_ringbuf_scan),
      EXPORT("ringbufCollect", js_ringbuf_collect),
      EXPORT("perfEventOpen", js_perf_event_open),
      EXPORT("ioctl", js_ioctl),
      EXPORT("close", js_close),
      EXPORT("dup", js_dup),
      EXPORT("pageSize", js_page_size),
      EXPORT("mmap", js_mmap),
      EXPORT("munmap", js_munmap),
      EXPORT("pollStart", js_poll_start),
      EXPORT("pollStop", js_poll_stop),
      EXPORT("pollRef", js_poll_ref),
      EXPORT("socket", js_socket),
      EXPORT("bind", js_bind),
      EXPORT("setsockopt", js_setsockopt),
      EXPORT("getsockopt", js_getsockopt),
      EXPORT("send", js_send),
      EXPORT("recv", js_recv),
      EXPORT("read", js_read),
      EXPORT("write", js_write),
      EXPORT("eventfd", js_eventfd),
      EXPORT("mount", js_mount),
      EXPORT("ifNameToIndex", js_if_name_to_index),
      EXPORT("errnoName", js_errno_name),
      EXPORT("strerror", js_strerror),
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
