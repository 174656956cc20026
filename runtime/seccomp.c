/* seccomp: berth's TypeScript driver compiles linux.seccomp to classic BPF and passes it as the
 * base64 annotation run.berth.seccomp.bpf (an array of struct sock_filter); this file only
 * decodes and installs it. */
#include "berth.h"
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

char *base64_decode(const char *in, size_t *outlen) {
  size_t n = strlen(in);
  char *out = malloc(n / 4 * 3 + 4);
  if (!out) return NULL;
  unsigned acc = 0; int bits = 0; size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = in[i]; int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    else { free(out); return NULL; }
    acc = (acc << 6) | (unsigned)v; bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (char)((acc >> bits) & 0xFF); }
  }
  *outlen = o;
  return out;
}

/* linux.seccomp.flags: the SECCOMP_FILTER_FLAG_* names the OCI spec allows */
static int filter_flags(const struct jv *cfg, unsigned *out) {
  static const struct { const char *name; unsigned bit; } names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 1}, {"SECCOMP_FILTER_FLAG_LOG", 2}, {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4},
  };
  *out = 0;
  struct jv *list = jpath(cfg, "linux.seccomp.flags");
  for (struct jv *f = list ? list->child : NULL; f; f = f->next) {
    int found = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
      if (!strcmp(jstr(f, ""), names[i].name)) { *out |= names[i].bit; found = 1; }
    if (!found) return failx("unsupported seccomp flag \"%s\"", jstr(f, "?"));
  }
  return 0;
}

static const char *bpf_of(const struct jv *cfg) { return jstr(jget(jget(cfg, "annotations"), "run.berth.seccomp.bpf"), NULL); }

int seccomp_check(const struct jv *cfg) {
  const char *b64 = bpf_of(cfg);
  if (jpath(cfg, "linux.seccomp") && !b64)
    return failx("linux.seccomp is set but annotation \"run.berth.seccomp.bpf\" is missing: berth-runtime does not compile seccomp profiles, berth's driver (src/runtime) compiles them to BPF");
  if (*jstr(jpath(cfg, "linux.seccomp.listenerPath"), ""))
    return failx("linux.seccomp.listenerPath (SCMP_ACT_NOTIFY) is not supported by berth-runtime");
  if (!b64) return 0;
  unsigned flags;
  if (filter_flags(cfg, &flags) < 0) return -1;
  size_t len; char *raw = base64_decode(b64, &len);
  if (!raw) return failx("annotation \"run.berth.seccomp.bpf\" is not valid base64");
  free(raw);
  if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return failx("annotation \"run.berth.seccomp.bpf\" must hold 1..%d sock_filter records (got %zu bytes)", BPF_MAXINSNS, len);
  return 0;
}

int seccomp_install(const struct jv *cfg) {
  const char *b64 = bpf_of(cfg);
  if (!b64) return 0;
  size_t len; char *raw = base64_decode(b64, &len);
  if (!raw || len == 0 || len % sizeof(struct sock_filter)) { free(raw); return failx("bad seccomp program"); }
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)raw};
  unsigned flags = 0;
  if (filter_flags(cfg, &flags) < 0) { free(raw); return -1; }
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0 && errno == ENOSYS && !flags) r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  int e = errno;
  free(raw);
  if (r < 0) return fail(e, "install seccomp filter");
  return 0;
}
