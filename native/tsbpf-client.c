// tsbpf-client [--blob BLOB] [--no-serve] SOCKET [ARG...]: hands `tsbpf ARG...` to the build
// server listening on SOCKET (src/accel/server.ts) and relays what it prints and its exit status.
// bin/tsbpf runs it for `tsbpf build` when the launch record names a snapshot: a C process
// starts in about a millisecond where Node needs 40-60, and the server has TypeScript and the
// compiler loaded and warm.
//
// Trust first (the rules of src/accel/cache-dir.ts): the socket's directory, every directory
// above it, the socket and the blob must be the user's own, or it exits 77 (EX_NOPERM) before
// connecting, and bin/tsbpf builds the ordinary way, neither starting Node from that blob nor
// sending anything to that socket. After connecting, the server's uid as the kernel reports it
// (SO_PEERCRED) must be the effective uid. With --no-serve it only checks (exit 75 when all is
// the user's). It waits TSBPF_SERVER_WAIT seconds (default 10) for the server to start the
// build; when it does not, the client withdraws the request and exits 75 (the server skips a
// withdrawn request). A started build has the time limit the server sent plus a margin.
//
// The wire format is described in src/accel/server-protocol.ts. This program only frames bytes:
// it sends its working directory, umask, whether stdout/stderr are terminals, uid, arguments
// and environment, then copies stdout/stderr frames to fds 1 and 2 and exits with the status
// of the exit frame. It exits 75 (NOT_SERVED) when nothing was served (no server, a refused
// request, a connection closed before any output), and bin/tsbpf then builds the usual way.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOT_SERVED 75
#define NOT_TRUSTED 77
#define REQUEST_TAG "tsbpf-build 2"
#define MAX_REQUEST (4u << 20)
enum { FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3, FRAME_STARTED = 4 };

extern char **environ;
static int debug;

static void say(const char *fmt, ...) {
  if (!debug) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("tsbpf: client: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

struct buf {
  char *p;
  size_t n, cap;
};

/* Appends s and its NUL. */
static int put(struct buf *b, const char *s) {
  size_t len = strlen(s) + 1;
  if (b->n + len > MAX_REQUEST) return -1;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The deadline of the current read (monotonic ms); reads past it fail with timed_out set. */
static long long deadline;
static int timed_out;

/* Reads exactly n bytes; returns how many arrived before end of file or the deadline. */
static size_t read_all(int fd, char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      timed_out = 1;
      break;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (ready == 0) continue;
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

/* ---- trust: the rules of src/accel/cache-dir.ts ---- */

static char why[PATH_MAX + 160];

static int distrust(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return 0;
}

/* A directory above the cache: a link (its own directory and its target are checked), or a
   directory of the user or root that no one else may write unless it is sticky (/tmp). */
static int above_ok(const char *d) {
  struct stat st;
  if (lstat(d, &st) != 0) return distrust("%s: %s", d, strerror(errno));
  if (S_ISLNK(st.st_mode)) return 1;
  if (!S_ISDIR(st.st_mode)) return distrust("%s is not a directory", d);
  if (st.st_uid != geteuid() && st.st_uid != 0)
    return distrust("%s (above the cache) is owned by uid %u, neither you nor root", d,
                    (unsigned)st.st_uid);
  if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
    return distrust("%s (above the cache) is writable by others (mode %o)", d,
                    (unsigned)(st.st_mode & 07777));
  return 1;
}

/* Every directory from / down to the parent of dir (absolute, no trailing slash). */
static int chain_ok(const char *dir) {
  char d[PATH_MAX];
  if (strlen(dir) >= sizeof d) return distrust("%s: path too long", dir);
  if (!above_ok("/")) return 0;
  const char *last = strrchr(dir, '/');
  for (const char *p = strchr(dir + 1, '/'); p && p <= last; p = strchr(p + 1, '/')) {
    if (p == last) break;
    memcpy(d, dir, (size_t)(p - dir));
    d[p - dir] = 0;
    if (!above_ok(d)) return 0;
  }
  return 1;
}

/* The cache directory itself: the user's, open to no one else. */
static int own_dir(const char *dir, int follow) {
  struct stat st;
  if ((follow ? stat(dir, &st) : lstat(dir, &st)) != 0)
    return distrust("%s: %s", dir, strerror(errno));
  if (!follow && S_ISLNK(st.st_mode)) return 1;
  if (!S_ISDIR(st.st_mode)) return distrust("%s is not a directory", dir);
  if (st.st_uid != geteuid())
    return distrust("%s is owned by uid %u, not by you (uid %u)", dir, (unsigned)st.st_uid,
                    (unsigned)geteuid());
  if (st.st_mode & 077)
    return distrust("%s is open to others (mode %o, not 700)", dir, (unsigned)(st.st_mode & 07777));
  return 1;
}

static int cache_dir_ok(const char *dir) {
  char real[PATH_MAX];
  if (!own_dir(dir, 0) || !chain_ok(dir)) return 0;
  if (!realpath(dir, real)) return distrust("%s: %s", dir, strerror(errno));
  if (strcmp(real, dir) == 0) return 1;
  return own_dir(real, 1) && chain_ok(real);
}

/* An entry of the cache: of this type, not a link, the user's, writable by no one else.
   Missing: 0 with errno ENOENT. */
static int entry_ok(const char *path, mode_t type) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    int err = errno;
    distrust("%s: %s", path, strerror(err));
    errno = err;
    return 0;
  }
  errno = 0;
  if (S_ISLNK(st.st_mode)) return distrust("%s is a symbolic link", path);
  if ((st.st_mode & S_IFMT) != type)
    return distrust("%s is not a %s", path, type == S_IFSOCK ? "socket" : "file");
  if (st.st_uid != geteuid())
    return distrust("%s is owned by uid %u, not by you (uid %u)", path, (unsigned)st.st_uid,
                    (unsigned)geteuid());
  if (st.st_mode & 022)
    return distrust("%s is writable by others (mode %o)", path, (unsigned)(st.st_mode & 07777));
  return 1;
}

/* path made absolute against cwd, into out. */
static int absolute(const char *path, const char *cwd, char *out, size_t size) {
  int n = path[0] == '/' ? snprintf(out, size, "%s", path)
                         : snprintf(out, size, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
  return n > 0 && (size_t)n < size;
}

static unsigned env_seconds(const char *name, unsigned dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  return *end || n == 0 || n > 86400 ? dflt : (unsigned)n;
}

/* Connects to path; a path longer than sun_path is reached from its directory. Blocking
   connect() and write() give up after timeout_s. */
static int connect_to(const char *path, const char *cwd, unsigned timeout_s) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // connect() and write() block while a stuck server's backlog or buffer is full: bounded
  struct timeval tv = {.tv_sec = timeout_s};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  const char *name = path;
  char dir[PATH_MAX];
  int moved = 0;
  if (strlen(path) >= sizeof addr.sun_path) {
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (!slash || dlen >= sizeof dir) goto fail;
    memcpy(dir, path, dlen);
    dir[dlen] = 0;
    if (chdir(dlen ? dir : "/") != 0) goto fail;
    moved = 1;
    name = slash + 1;
    if (strlen(name) >= sizeof addr.sun_path) goto fail;
  }
  strcpy(addr.sun_path, name);
  int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
  int err = errno;
  if (moved && chdir(cwd) != 0) ok = 0;
  if (ok) return fd;
  errno = err;
fail:
  err = errno;
  close(fd);
  errno = err;
  return -1;
}

int main(int argc, char **argv) {
  const char *d = getenv("TSBPF_DEBUG");
  debug = d && *d;
  const char *blob = NULL;
  int serve = 1, first = 1;
  for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
    if (strcmp(argv[first], "--blob") == 0 && first + 1 < argc) blob = argv[++first];
    else if (strcmp(argv[first], "--no-serve") == 0) serve = 0;
    else break;
  }
  if (first >= argc) {
    fputs("usage: tsbpf-client [--blob BLOB] [--no-serve] SOCKET [ARG...] (bin/tsbpf runs this; "
          "run tsbpf instead)\n",
          stderr);
    return 2;
  }
  const char *sock = argv[first];
  int nargs = argc - first - 1;
  char **args = argv + first + 1;
  signal(SIGPIPE, SIG_IGN);

  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    say("cannot read the working directory: %s", strerror(errno));
    return NOT_SERVED;
  }

  // The cache directory (the socket's), the blob and the socket: the user's own, or nothing.
  char abs[PATH_MAX], dir[PATH_MAX];
  if (!absolute(sock, cwd, abs, sizeof abs)) {
    say("%s: path too long", sock);
    return NOT_TRUSTED;
  }
  memcpy(dir, abs, strlen(abs) + 1);
  *strrchr(dir, '/') = 0;
  if (!dir[0]) strcpy(dir, "/");
  if (!cache_dir_ok(dir) || (blob && !entry_ok(blob, S_IFREG))) {
    say("the cache is not yours alone: %s", why);
    return NOT_TRUSTED;
  }
  if (!serve) return NOT_SERVED;
  if (!entry_ok(sock, S_IFSOCK)) {
    if (errno == ENOENT) {
      say("no build server at %s", sock);
      return NOT_SERVED;
    }
    say("the cache is not yours alone: %s", why);
    return NOT_TRUSTED;
  }

  mode_t mask = umask(0);
  umask(mask);
  char umask_s[8], ttys[3], uid_s[16], argc_s[16];
  snprintf(umask_s, sizeof umask_s, "%o", (unsigned)mask);
  ttys[0] = isatty(1) ? '1' : '0';
  ttys[1] = isatty(2) ? '1' : '0';
  ttys[2] = 0;
  snprintf(uid_s, sizeof uid_s, "%u", (unsigned)getuid());
  snprintf(argc_s, sizeof argc_s, "%d", nargs);

  struct buf req = {0};
  int bad = put(&req, REQUEST_TAG) || put(&req, cwd) || put(&req, umask_s) || put(&req, ttys) ||
            put(&req, uid_s) || put(&req, argc_s);
  for (int i = 0; i < nargs && !bad; i++) bad = put(&req, args[i]);
  for (char **e = environ; *e && !bad; e++) bad = put(&req, *e);
  if (bad) {
    say("the request is too large");
    return NOT_SERVED;
  }

  unsigned wait_s = env_seconds("TSBPF_SERVER_WAIT", 10);
  int fd = connect_to(sock, cwd, wait_s);
  if (fd < 0) {
    say("no build server at %s: %s", sock, strerror(errno));
    return NOT_SERVED;
  }
  // Only to a server of this user, as the kernel says (the socket could be another's by now).
  struct ucred cred;
  socklen_t clen = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.uid != geteuid()) {
    say("the build server at %s is not yours (uid %d): nothing sent", sock,
        clen == sizeof cred ? (int)cred.uid : -1);
    return NOT_SERVED;
  }
  unsigned char len[4] = {req.n & 0xff, (req.n >> 8) & 0xff, (req.n >> 16) & 0xff,
                          (req.n >> 24) & 0xff};
  if (write_all(fd, (char *)len, 4) || write_all(fd, req.p, req.n)) {
    say("sending the request failed: %s", strerror(errno));
    return NOT_SERVED;
  }
  free(req.p);

  // Until the server starts the build: wait_s, then the request is withdrawn (shutdown), and a
  // second more lets a build that started meanwhile be followed rather than run twice.
  deadline = now_ms() + wait_s * 1000LL;
  int started = 0, withdrawn = 0, relayed = 0, out_ok = 1, err_ok = 1;
  unsigned limit = 0;
  char chunk[65536];
  for (;;) {
    unsigned char head[5];
    timed_out = 0;
    if (read_all(fd, (char *)head, 5) != 5) {
      if (timed_out && !started && !withdrawn) {
        say("the build server did not start the build within %u s: withdrawn", wait_s);
        shutdown(fd, SHUT_WR);
        withdrawn = 1;
        deadline = now_ms() + 1000;
        continue;
      }
      if (timed_out && started) {
        fprintf(stderr,
                "tsbpf: the build server did not finish this build within %u s; "
                "`tsbpf server stop` ends it (TSBPF_SERVER=0 builds without the server)\n",
                limit + 30);
        return 1;
      }
      break;
    }
    uint32_t n = head[1] | head[2] << 8 | head[3] << 16 | (uint32_t)head[4] << 24;
    if (head[0] == FRAME_EXIT || head[0] == FRAME_STARTED) {
      char body[12] = {0};
      if (n >= sizeof body || read_all(fd, body, n) != n) break;
      if (head[0] == FRAME_EXIT) return atoi(body);
      started = 1;
      limit = (unsigned)strtoul(body, NULL, 10);
      // the server's watchdog ends the build at the limit; this is for a server that cannot
      deadline = now_ms() + (limit + 30) * 1000LL;
      continue;
    }
    int to = head[0] == FRAME_STDOUT ? 1 : head[0] == FRAME_STDERR ? 2 : -1;
    if (to < 0) break;
    relayed = 1;
    while (n > 0) {
      size_t want = n < sizeof chunk ? n : sizeof chunk;
      if (read_all(fd, chunk, want) != want) goto lost;
      // A closed stdout (`| head`) stops the copying, not the build: keep reading to the end.
      int *ok = to == 1 ? &out_ok : &err_ok;
      if (*ok && write_all(to, chunk, want)) *ok = 0;
      n -= (uint32_t)want;
    }
  }
lost:
  if (!relayed) {
    say("the build server closed the connection without answering");
    return NOT_SERVED;
  }
  fputs("tsbpf: the build server stopped during this build; run it again "
        "(TSBPF_SERVER=0 builds without the server)\n",
        stderr);
  return 1;
}
