/* Namespaces from linux.namespaces: create new ones (unshare; pid via clone of the child) or
 * join existing ones by path (setns). User namespaces are parsed but refused for now. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct { const char *name; int flag; const char *proc; } kinds[] = {
  {"pid", CLONE_NEWPID, "pid"}, {"network", CLONE_NEWNET, "net"}, {"mount", CLONE_NEWNS, "mnt"},
  {"ipc", CLONE_NEWIPC, "ipc"}, {"uts", CLONE_NEWUTS, "uts"}, {"cgroup", CLONE_NEWCGROUP, "cgroup"},
  {"user", CLONE_NEWUSER, "user"}, {"time", 0x00000080 /* CLONE_NEWTIME */, "time"},
};

int ns_plan(const struct jv *cfg, struct ns_plan *p) {
  memset(p, 0, sizeof *p);
  p->join_pid_fd = -1;
  struct jv *list = jpath(cfg, "linux.namespaces");
  for (struct jv *n = list ? list->child : NULL; n; n = n->next) {
    const char *type = jstr(jget(n, "type"), "");
    const char *path = jstr(jget(n, "path"), NULL);
    int flag = -1;
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
      if (!strcmp(kinds[i].name, type)) flag = kinds[i].flag;
    if (flag < 0) return failx("unknown namespace type \"%s\"", type);
    if (flag == CLONE_NEWUSER && path && *path) return failx("joining an existing user namespace is not supported by berth-runtime");
    if (path && *path) {
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fail(errno, "open %s namespace \"%s\"", type, path);
      if (flag == CLONE_NEWPID) { p->join_pid_fd = fd; continue; }
      if (p->njoin >= 8) { close(fd); return failx("too many namespaces to join"); }
      p->join_fd[p->njoin] = fd; p->join_type[p->njoin++] = flag;
    } else {
      p->new_flags |= flag;
      if (flag == CLONE_NEWPID) p->new_pid = 1;
      if (flag == CLONE_NEWUSER) p->userns = 1;
    }
  }
  if (p->userns && (!jlen(jpath(cfg, "linux.uidMappings")) || !jlen(jpath(cfg, "linux.gidMappings"))))
    return failx("a user namespace needs linux.uidMappings and linux.gidMappings");
  if (!(p->new_flags & CLONE_NEWNS)) {
    int joined_mnt = 0;
    for (int i = 0; i < p->njoin; i++) if (p->join_type[i] == CLONE_NEWNS) joined_mnt = 1;
    if (!joined_mnt) return failx("a mount namespace is required (add {\"type\": \"mount\"} to linux.namespaces)");
  }
  return 0;
}

int ns_enter_pid(struct ns_plan *p) {
  if (p->join_pid_fd >= 0 && setns(p->join_pid_fd, CLONE_NEWPID) < 0) return fail(errno, "join pid namespace");
  return 0;
}

int ns_apply(struct ns_plan *p) {
  /* join first (mount last so the other paths were already opened), then create the rest */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < p->njoin; i++) {
      int is_mnt = p->join_type[i] == CLONE_NEWNS;
      if (is_mnt != pass) continue;
      if (setns(p->join_fd[i], p->join_type[i]) < 0) return fail(errno, "join namespace (type 0x%x)", p->join_type[i]);
      close(p->join_fd[i]);
    }
  int flags = p->new_flags & ~(CLONE_NEWPID | CLONE_NEWUSER); /* both were created by clone */
  if (flags && unshare(flags) < 0) return fail(errno, "unshare namespaces (flags 0x%x)", flags);
  return 0;
}

/* Writes uid_map and gid_map of a child created with CLONE_NEWUSER; we are root in its parent
 * namespace, so any mapping is allowed and setgroups stays usable. */
int ns_write_maps(const struct jv *cfg, pid_t pid) {
  static const char *keys[] = {"linux.uidMappings", "linux.gidMappings"};
  static const char *files[] = {"uid_map", "gid_map"};
  for (int k = 0; k < 2; k++) {
    char buf[4096] = ""; size_t n = 0;
    struct jv *list = jpath(cfg, keys[k]);
    for (struct jv *m = list ? list->child : NULL; m; m = m->next) {
      int w = snprintf(buf + n, sizeof buf - n, "%lld %lld %lld\n", jint(jget(m, "containerID"), -1), jint(jget(m, "hostID"), -1), jint(jget(m, "size"), -1));
      if (w < 0 || (size_t)w >= sizeof buf - n) return failx("%s too long", keys[k]);
      n += w;
    }
    char path[64]; snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[k]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno, "open \"%s\"", path);
    ssize_t r = write(fd, buf, n);
    int e = errno;
    close(fd);
    if (r != (ssize_t)n) return fail(e, "write %s", keys[k]);
  }
  return 0;
}

/* exec: enter every namespace of pid that differs from ours; pid takes effect for children */
int ns_join_pid_of(pid_t pid, int *joined_pid) {
  int fds[8], types[8], n = 0;
  *joined_pid = 0;
  for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char theirs[64], ours[64];
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, kinds[i].proc);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i].proc);
    struct stat a, b;
    if (stat(theirs, &a) < 0) { if (errno == ENOENT) continue; return fail(errno, "stat \"%s\"", theirs); }
    if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    int fd = open(theirs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno, "open \"%s\"", theirs);
    fds[n] = fd; types[n++] = kinds[i].flag;
  }
  /* user namespace first (it owns the others), mount namespace last (after it, /proc no
   * longer shows the host) */
  for (int pass = 0; pass < 3; pass++)
    for (int i = 0; i < n; i++) {
      int order = types[i] == CLONE_NEWUSER ? 0 : types[i] == CLONE_NEWNS ? 2 : 1;
      if (order != pass) continue;
      if (setns(fds[i], types[i]) < 0) return fail(errno, "join namespace (type 0x%x) of pid %d", types[i], (int)pid);
      if (types[i] == CLONE_NEWPID) *joined_pid = 1;
      close(fds[i]);
    }
  return 0;
}

/* fork-like clone: with CLONE_NEWPID the child is pid 1 of a new pid namespace */
pid_t clone_child(int flags) {
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, 0UL);
  if (pid < 0) fail(errno, "clone");
  return pid;
}
