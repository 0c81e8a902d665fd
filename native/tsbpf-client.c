// tsbpf-client SOCKET [ARG...]: hands `tsbpf ARG...` to the build server listening on SOCKET
// (src/cli/server.ts) and relays what it prints and its exit status. bin/tsbpf runs it for
// `tsbpf build` when a server socket exists: a C process starts in about a millisecond where
// Node needs 40-60, and the server has TypeScript and the compiler loaded and warm.
//
// The wire format is described in src/cli/server-protocol.ts. This program only frames bytes:
// it sends its working directory, umask, whether stdout/stderr are terminals, uid, arguments
// and environment, then copies stdout/stderr frames to fds 1 and 2 and exits with the status
// of the exit frame. It exits 75 (NOT_SERVED) when nothing was served (no server, a refused
// request, a connection closed before any output), and bin/tsbpf then builds the usual way.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NOT_SERVED 75
#define REQUEST_TAG "tsbpf-build 1"
#define MAX_REQUEST (4u << 20)
enum { FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3 };

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

/* Reads exactly n bytes; returns how many arrived before end of file (n when all did). */
static size_t read_all(int fd, char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

/* Connects to path; a path longer than sun_path is reached from its directory. */
static int connect_to(const char *path, const char *cwd) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
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
  if (argc < 2) {
    fputs("usage: tsbpf-client SOCKET [ARG...] (bin/tsbpf runs this; run tsbpf instead)\n",
          stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    say("cannot read the working directory: %s", strerror(errno));
    return NOT_SERVED;
  }
  mode_t mask = umask(0);
  umask(mask);
  char umask_s[8], ttys[3], uid_s[16], argc_s[16];
  snprintf(umask_s, sizeof umask_s, "%o", (unsigned)mask);
  ttys[0] = isatty(1) ? '1' : '0';
  ttys[1] = isatty(2) ? '1' : '0';
  ttys[2] = 0;
  snprintf(uid_s, sizeof uid_s, "%u", (unsigned)getuid());
  snprintf(argc_s, sizeof argc_s, "%d", argc - 2);

  struct buf req = {0};
  int bad = put(&req, REQUEST_TAG) || put(&req, cwd) || put(&req, umask_s) || put(&req, ttys) ||
            put(&req, uid_s) || put(&req, argc_s);
  for (int i = 2; i < argc && !bad; i++) bad = put(&req, argv[i]);
  for (char **e = environ; *e && !bad; e++) bad = put(&req, *e);
  if (bad) {
    say("the request is too large");
    return NOT_SERVED;
  }

  int fd = connect_to(argv[1], cwd);
  if (fd < 0) {
    say("no build server at %s: %s", argv[1], strerror(errno));
    return NOT_SERVED;
  }
  unsigned char len[4] = {req.n & 0xff, (req.n >> 8) & 0xff, (req.n >> 16) & 0xff,
                          (req.n >> 24) & 0xff};
  if (write_all(fd, (char *)len, 4) || write_all(fd, req.p, req.n)) {
    say("sending the request failed: %s", strerror(errno));
    return NOT_SERVED;
  }
  free(req.p);

  int relayed = 0, out_ok = 1, err_ok = 1;
  char chunk[65536];
  for (;;) {
    unsigned char head[5];
    if (read_all(fd, (char *)head, 5) != 5) break;
    uint32_t n = head[1] | head[2] << 8 | head[3] << 16 | (uint32_t)head[4] << 24;
    if (head[0] == FRAME_EXIT) {
      char status[12] = {0};
      if (n >= sizeof status || read_all(fd, status, n) != n) break;
      return atoi(status);
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
