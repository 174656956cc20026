/* The container process: rlimits, user and groups, capabilities, umask, cwd, no_new_privs,
 * seccomp, then execve. Host file descriptors never survive execve: everything above the
 * preserved range is marked close-on-exec (CVE-2024-21626 class). */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int close_fds_from(int first) {
  if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  for (int fd = first; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

/* Closes every fd >= from except those listed: the monitor and a waiting init must not hold the
 * caller's descriptors (an error pipe, a socket) open for the container's lifetime. */
void close_other_fds(int from, const int *keep, int nkeep) {
  int sorted[32], n = 0;
  for (int i = 0; i < nkeep && n < 32; i++) if (keep[i] >= from) sorted[n++] = keep[i];
  for (int i = 1; i < n; i++) for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) { int t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t; }
  int lo = from;
  for (int i = 0; i <= n; i++) {
    int hi = i < n ? sorted[i] - 1 : -1;
    if (i < n && hi < lo) { lo = sorted[i] + 1; continue; }
    if (syscall(SYS_close_range, (unsigned)lo, i < n ? (unsigned)hi : ~0U, 0) < 0) {
      for (int fd = lo; fd <= (i < n ? hi : 4096); fd++) close(fd);
    }
    if (i < n) lo = sorted[i] + 1;
  }
}

static const struct { const char *name; int res; } rlims[] = {
  {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int apply_rlimits(const struct jv *process) {
  struct jv *list = jget(process, "rlimits");
  for (struct jv *r = list ? list->child : NULL; r; r = r->next) {
    const char *type = jstr(jget(r, "type"), "");
    int res = -1;
    for (unsigned i = 0; i < sizeof rlims / sizeof rlims[0]; i++)
      if (!strcmp(type, rlims[i].name)) res = rlims[i].res;
    if (res < 0) return failx("unknown rlimit \"%s\"", type);
    struct rlimit rl = {(rlim_t)jint(jget(r, "soft"), 0), (rlim_t)jint(jget(r, "hard"), 0)};
    struct jv *s = jget(r, "soft"), *h = jget(r, "hard");
    /* values above 2^63 (unlimited) arrive as large numbers */
    if (s && s->type == J_NUM && s->str[0] != '-' && strlen(s->str) >= 19 && strtoull(s->str, NULL, 10) >= (unsigned long long)RLIM_INFINITY) rl.rlim_cur = RLIM_INFINITY;
    if (h && h->type == J_NUM && h->str[0] != '-' && strlen(h->str) >= 19 && strtoull(h->str, NULL, 10) >= (unsigned long long)RLIM_INFINITY) rl.rlim_max = RLIM_INFINITY;
    if (s && s->type == J_NUM) rl.rlim_cur = strtoull(s->str, NULL, 10);
    if (h && h->type == J_NUM) rl.rlim_max = strtoull(h->str, NULL, 10);
    if (setrlimit(res, &rl) < 0) return fail(errno, "set rlimit %s", type);
  }
  return 0;
}

int set_user(const struct jv *process, const char *override) {
  struct jv *user = jget(process, "user");
  uid_t uid = (uid_t)jint(jget(user, "uid"), 0);
  gid_t gid = (gid_t)jint(jget(user, "gid"), 0);
  gid_t groups[256]; int ngroups = 0;
  if (override) {
    char *end;
    unsigned long u = strtoul(override, &end, 10);
    if (end == override || (*end && *end != ':')) return failx("invalid --user \"%s\": expected UID[:GID]", override);
    uid = (uid_t)u; gid = 0;
    if (*end == ':') {
      char *e2; gid = (gid_t)strtoul(end + 1, &e2, 10);
      if (*e2 || e2 == end + 1) return failx("invalid --user \"%s\": expected UID[:GID]", override);
    }
  } else {
    struct jv *add = jget(user, "additionalGids");
    for (struct jv *g = add ? add->child : NULL; g && ngroups < 256; g = g->next) groups[ngroups++] = (gid_t)jint(g, 0);
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail(errno, "keep capabilities");
  if (setgroups(ngroups, groups) < 0) return fail(errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0) return fail(errno, "setgid %u", (unsigned)gid);
  if (setresuid(uid, uid, uid) < 0) return fail(errno, "setuid %u", (unsigned)uid);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  return 0;
}

static char **build_env(struct proc_opts *o) {
  struct jv *env = jget(o->process, "env");
  size_t n = jlen(env), k = 0;
  char **out = calloc(n + o->n_extra_env + 2, sizeof *out);
  if (!out) return NULL;
  for (struct jv *e = env ? env->child : NULL; e; e = e->next) if (e->type == J_STR) out[k++] = e->str;
  for (int i = 0; i < o->n_extra_env; i++) {
    const char *kv = o->extra_env[i];
    size_t klen = strcspn(kv, "=");
    size_t j;
    for (j = 0; j < k; j++) if (!strncmp(out[j], kv, klen) && out[j][klen] == '=') break;
    out[j] = (char *)kv;
    if (j == k) k++;
  }
  int has_home = 0;
  for (size_t j = 0; j < k; j++) if (!strncmp(out[j], "HOME=", 5)) has_home = 1;
  if (!has_home) out[k++] = "HOME=/"; /* Docker's driver sets it from /etc/passwd; keep something sane */
  out[k] = NULL;
  return out;
}

static char **build_args(struct proc_opts *o) {
  if (o->args_override) {
    char **a = calloc(o->n_args + 1, sizeof *a);
    if (a) memcpy(a, o->args_override, o->n_args * sizeof *a);
    return a;
  }
  struct jv *args = jget(o->process, "args");
  char **a = calloc(jlen(args) + 1, sizeof *a);
  size_t k = 0;
  if (a) for (struct jv *e = args ? args->child : NULL; e; e = e->next) if (e->type == J_STR) a[k++] = e->str;
  return a;
}

static int find_exec(const char *name, char **env, char *out, size_t size) {
  if (!name || !*name) return failx("process.args must not be empty");
  if (strchr(name, '/')) {
    snprintf(out, size, "%s", name);
    struct stat sb;
    if (stat(out, &sb) < 0) return fail(errno, "exec: \"%s\"", name);
    if (!S_ISREG(sb.st_mode) || access(out, X_OK) < 0) return fail(EACCES, "exec: \"%s\"", name);
    return 0;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = env; *e; e++) if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
  char buf[8192]; snprintf(buf, sizeof buf, "%s", path);
  char *save = NULL;
  for (char *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    snprintf(out, size, "%s/%s", *dir ? dir : ".", name);
    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0) return 0;
  }
  return failx("exec: \"%s\": executable file not found in $PATH", name);
}

int process_prepare(struct proc_opts *o) {
  char **env = build_env(o), **args = build_args(o);
  char path[PATH_MAX];
  int r = env && args ? find_exec(args[0], env, path, sizeof path) : fail(ENOMEM, "prepare process");
  free(env); free(args);
  return r;
}

__attribute__((noreturn)) static void die(int code) {
  err_report();
  _exit(code);
}

void process_exec(struct proc_opts *o) {
  const struct jv *p = o->process;
  if (o->start_fd >= 0) {
    /* block until `start` opens the fifo for reading */
    char fp[64]; snprintf(fp, sizeof fp, "/proc/self/fd/%d", o->start_fd);
    int w = open(fp, O_WRONLY | O_CLOEXEC);
    if (w < 0) { fail(errno, "open exec fifo"); die(1); }
    if (write(w, "0", 1) != 1) { fail(errno, "write exec fifo"); die(1); }
    close(w); close(o->start_fd);
  }
  close_fds_from(3 + o->preserve_fds);
  char **env = build_env(o), **args = build_args(o);
  if (!env || !args) { fail(ENOMEM, "prepare process"); die(1); }
  if (apply_rlimits(p) < 0) die(1);
  int nnp = jbool(jget(p, "noNewPrivileges"), 0);
  /* without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes in before privileges drop */
  if (!nnp && seccomp_install(o->cfg) < 0) die(1);
  struct jv *caps = jget(p, "capabilities");
  if (caps_drop_bounding(caps) < 0) die(1);
  if (set_user(p, o->user_override) < 0) die(1);
  if (caps_apply(caps) < 0) die(1);
  struct jv *um = jpath(p, "user.umask");
  umask(um ? (mode_t)jint(um, 022) : 022);
  const char *cwd = o->cwd_override ? o->cwd_override : jstr(jget(p, "cwd"), "/");
  if (chdir(cwd) < 0) { fail(errno, "chdir to cwd \"%s\"", cwd); die(1); }
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { fail(errno, "set no_new_privs"); die(1); }
  char path[PATH_MAX];
  if (find_exec(args[0], env, path, sizeof path) < 0) die(errno == EACCES ? 126 : 127);
  if (o->init) {
    pid_t child = fork();
    if (child < 0) { fail(errno, "fork init child"); die(1); }
    if (child > 0) init_run(child);
  }
  if (nnp && seccomp_install(o->cfg) < 0) die(1);
  execve(path, args, env);
  fail(errno, "exec \"%s\"", path);
  die(errno == ENOENT ? 127 : 126);
}
