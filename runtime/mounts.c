/* Root filesystem: propagation, bind of the rootfs, the mounts list in order, device nodes,
 * pivot_root, masked and read-only paths. Every destination inside the rootfs is resolved with
 * openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd/N, so symlinks planted by a hostile
 * image can never point a mount outside the rootfs. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef RESOLVE_IN_ROOT
struct open_how { uint64_t flags, mode, resolve; };
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#else
#include <linux/openat2.h>
#endif

static char rootfs[PATH_MAX];

static unsigned long vfs_flags(const char *path);

/* Inside a user namespace the kernel locks the flags of mounts inherited from the host, and
 * fresh cgroup v1 mounts are refused: remounts must keep the existing flags. */
static int in_userns(void) {
  static int cached = -1;
  if (cached < 0) {
    char buf[256];
    cached = read_file("/proc/self/uid_map", buf, sizeof buf) > 0 && !strstr(buf, "4294967295");
  }
  return cached;
}

static int openat2_in_root(int rootfd, const char *path, int extra) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | extra, .mode = 0, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  const char *p = path;
  while (*p == '/') p++;
  if (!*p) p = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return fd;
}

int open_in_root(int rootfd, const char *path, int create, int is_dir) {
  int fd = openat2_in_root(rootfd, path, 0);
  if (fd >= 0 || errno != ENOENT || !create) return fd < 0 ? fail(errno, "open \"%s\" in rootfs", path) : fd;
  char partial[PATH_MAX] = "", comp[NAME_MAX + 1];
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    size_t n = strcspn(p, "/");
    if (n > NAME_MAX) return fail(ENAMETOOLONG, "open \"%s\" in rootfs", path);
    memcpy(comp, p, n); comp[n] = 0;
    p += n;
    while (*p == '/') p++;
    int last = *p == 0;
    char parent[PATH_MAX]; snprintf(parent, sizeof parent, "%s", partial[0] ? partial : "/");
    if (strlen(partial) + n + 2 >= sizeof partial) return fail(ENAMETOOLONG, "open \"%s\" in rootfs", path);
    strcat(partial, "/"); strcat(partial, comp);
    fd = openat2_in_root(rootfd, partial, 0);
    if (fd >= 0) { if (!last) close(fd); continue; }
    if (errno != ENOENT) return fail(errno, "open \"%s\" in rootfs", partial);
    int pfd = openat2_in_root(rootfd, parent, O_DIRECTORY);
    if (pfd < 0) return fail(errno, "open \"%s\" in rootfs", parent);
    int r;
    if (last && !is_dir) {
      r = openat(pfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (r >= 0) close(r);
    } else r = mkdirat(pfd, comp, 0755);
    int e = errno;
    close(pfd);
    if (r < 0 && e != EEXIST) return fail(e, "create \"%s\" in rootfs", partial);
    fd = openat2_in_root(rootfd, partial, 0);
    if (fd < 0) return fail(errno, "open \"%s\" in rootfs", partial);
    if (!last) close(fd);
  }
  return fd;
}

static void fdpath(int fd, char *buf, size_t size) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

struct mopt { const char *name; int clear; unsigned long flag; };
static const struct mopt mopts[] = {
  {"ro", 0, MS_RDONLY}, {"rw", 1, MS_RDONLY}, {"nosuid", 0, MS_NOSUID}, {"suid", 1, MS_NOSUID},
  {"nodev", 0, MS_NODEV}, {"dev", 1, MS_NODEV}, {"noexec", 0, MS_NOEXEC}, {"exec", 1, MS_NOEXEC},
  {"sync", 0, MS_SYNCHRONOUS}, {"async", 1, MS_SYNCHRONOUS}, {"dirsync", 0, MS_DIRSYNC},
  {"remount", 0, MS_REMOUNT}, {"mand", 0, MS_MANDLOCK}, {"nomand", 1, MS_MANDLOCK},
  {"atime", 1, MS_NOATIME}, {"noatime", 0, MS_NOATIME}, {"diratime", 1, MS_NODIRATIME},
  {"nodiratime", 0, MS_NODIRATIME}, {"relatime", 0, MS_RELATIME}, {"norelatime", 1, MS_RELATIME},
  {"strictatime", 0, MS_STRICTATIME}, {"nostrictatime", 1, MS_STRICTATIME},
  {"bind", 0, MS_BIND}, {"rbind", 0, MS_BIND | MS_REC},
};
static const struct mopt props[] = {
  {"private", 0, MS_PRIVATE}, {"rprivate", 0, MS_PRIVATE | MS_REC}, {"shared", 0, MS_SHARED},
  {"rshared", 0, MS_SHARED | MS_REC}, {"slave", 0, MS_SLAVE}, {"rslave", 0, MS_SLAVE | MS_REC},
  {"unbindable", 0, MS_UNBINDABLE}, {"runbindable", 0, MS_UNBINDABLE | MS_REC},
};

static int parse_options(const struct jv *opts, unsigned long *flags, unsigned long *prop, char *data, size_t dsize) {
  *flags = 0; *prop = 0; data[0] = 0;
  for (struct jv *o = opts ? opts->child : NULL; o; o = o->next) {
    const char *s = jstr(o, "");
    int known = 0;
    for (unsigned i = 0; i < sizeof mopts / sizeof mopts[0]; i++)
      if (!strcmp(s, mopts[i].name)) { known = 1; if (mopts[i].clear) *flags &= ~mopts[i].flag; else *flags |= mopts[i].flag; }
    for (unsigned i = 0; i < sizeof props / sizeof props[0]; i++)
      if (!strcmp(s, props[i].name)) { known = 1; *prop |= props[i].flag; }
    if (known) continue;
    if (!strcmp(s, "tmpcopyup")) continue;
    if (!strncmp(s, "idmap", 5) || !strncmp(s, "ridmap", 6)) return failx("mount option \"%s\" is not supported", s);
    if (strlen(data) + strlen(s) + 2 >= dsize) return failx("mount options too long");
    if (data[0]) strcat(data, ",");
    strcat(data, s);
  }
  return 0;
}

static int mount_cgroup(int rootfd, const char *dest, unsigned long flags, int cgv2, const char *cgpath) {
  int fd = open_in_root(rootfd, dest, 1, 1);
  if (fd < 0) return -1;
  char target[64]; fdpath(fd, target, sizeof target);
  if (cgv2) {
    int r = mount("cgroup", target, "cgroup2", flags & ~MS_RDONLY, NULL);
    close(fd);
    if (r < 0) return fail(errno, "mount cgroup2");
    if (flags & MS_RDONLY) {
      int fd2 = open_in_root(rootfd, dest, 0, 1);
      if (fd2 < 0) return -1;
      fdpath(fd2, target, sizeof target);
      r = mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)), NULL);
      close(fd2);
      if (r < 0) return fail(errno, "remount cgroup2 read-only");
    }
    return 0;
  }
  /* v1: a tmpfs holding one mount per hierarchy, each showing only the container's cgroup */
  int r = mount("tmpfs", target, "tmpfs", flags & ~MS_RDONLY, "mode=755");
  close(fd);
  if (r < 0) return fail(errno, "mount tmpfs for cgroups");
  char lines[8192];
  if (read_file("/proc/self/cgroup", lines, sizeof lines) < 0) return -1;
  char *save = NULL;
  for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':'); if (!c1) continue;
    char *c2 = strchr(c1 + 1, ':'); if (!c2) continue;
    *c2 = 0;
    const char *ctrls = c1 + 1;
    if (!*ctrls) continue; /* the unified hierarchy of a hybrid host is left out, like Docker */
    const char *dir = strncmp(ctrls, "name=", 5) ? ctrls : ctrls + 5;
    char sub[PATH_MAX]; snprintf(sub, sizeof sub, "%s/%s", dest, dir);
    int sfd = open_in_root(rootfd, sub, 1, 1);
    if (sfd < 0) return -1;
    char starget[64]; fdpath(sfd, starget, sizeof starget);
    const char *cur = c2 + 1;
    char hostdir[PATH_MAX]; snprintf(hostdir, sizeof hostdir, "/sys/fs/cgroup/%s%s", dir, cur);
    if (!strcmp(cur, "/")) {
      /* inside a new cgroup namespace a fresh mount shows the container's cgroup as its root */
      char opts[300]; snprintf(opts, sizeof opts, "%s%s", strncmp(ctrls, "name=", 5) ? "" : "none,", ctrls);
      r = mount("cgroup", starget, "cgroup", flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), opts);
      if (r < 0 && errno == EPERM && in_userns()) {
        /* refused in a user namespace: bind the container's cgroup from the host instead */
        snprintf(hostdir, sizeof hostdir, "/sys/fs/cgroup/%s%s", dir, cgpath);
        r = mount(hostdir, starget, NULL, MS_BIND, NULL);
        if (r < 0 && errno == ENOENT) { close(sfd); continue; } /* a hierarchy berth does not manage */
      }
    } else r = mount(hostdir, starget, NULL, MS_BIND, NULL);
    close(sfd);
    if (r < 0) return fail(errno, "mount cgroup hierarchy \"%s\"", hostdir);
    sfd = open_in_root(rootfd, sub, 0, 1);
    if (sfd < 0) return -1;
    fdpath(sfd, starget, sizeof starget);
    r = mount(NULL, starget, NULL, MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) | (in_userns() ? vfs_flags(starget) : 0), NULL);
    close(sfd);
    if (r < 0) return fail(errno, "remount cgroup hierarchy \"%s\"", dir);
    if (strchr(dir, ',')) {
      char names[256]; snprintf(names, sizeof names, "%s", dir);
      char *s2 = NULL;
      for (char *n = strtok_r(names, ",", &s2); n; n = strtok_r(NULL, ",", &s2)) {
        char link[PATH_MAX]; snprintf(link, sizeof link, "%s/%s", dest, n);
        char parent[PATH_MAX]; snprintf(parent, sizeof parent, "%s", dest);
        int pfd = open_in_root(rootfd, parent, 0, 1);
        if (pfd < 0) return -1;
        char pp[64]; fdpath(pfd, pp, sizeof pp);
        int dfd = open(pp, O_DIRECTORY | O_CLOEXEC);
        close(pfd);
        if (dfd >= 0) { symlinkat(dir, dfd, n); close(dfd); }
      }
    }
  }
  if (flags & MS_RDONLY) {
    fd = open_in_root(rootfd, dest, 0, 1);
    if (fd < 0) return -1;
    fdpath(fd, target, sizeof target);
    r = mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | (flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)), "mode=755");
    close(fd);
    if (r < 0) return fail(errno, "remount cgroup tmpfs read-only");
  }
  return 0;
}

static int mount_one(int rootfd, const char *bundle, const struct jv *m, int cgv2, const char *cgpath) {
  const char *dest = jstr(jget(m, "destination"), NULL);
  const char *type = jstr(jget(m, "type"), "");
  const char *src = jstr(jget(m, "source"), "");
  if (!dest || dest[0] != '/') return failx("mount destination must be an absolute path");
  unsigned long flags, prop; char data[4096];
  if (parse_options(jget(m, "options"), &flags, &prop, data, sizeof data) < 0) return -1;
  int is_bind = (flags & MS_BIND) || !strcmp(type, "bind");
  if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) return mount_cgroup(rootfd, dest, flags, cgv2, cgpath);
  char srcbuf[PATH_MAX];
  int is_dir = 1;
  if (is_bind) {
    if (src[0] != '/') { snprintf(srcbuf, sizeof srcbuf, "%s/%s", bundle, src); src = srcbuf; }
    struct stat sb;
    if (stat(src, &sb) < 0) return fail(errno, "bind source \"%s\"", src);
    is_dir = S_ISDIR(sb.st_mode);
  }
  int fd = open_in_root(rootfd, dest, 1, is_dir);
  if (fd < 0) return -1;
  char target[64]; fdpath(fd, target, sizeof target);
  int r;
  if (is_bind) {
    r = mount(src, target, NULL, MS_BIND | (flags & MS_REC), NULL);
    close(fd);
    if (r < 0) return fail(errno, "bind \"%s\"", src);
    unsigned long rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (rest) {
      fd = open_in_root(rootfd, dest, 0, is_dir);
      if (fd < 0) return -1;
      fdpath(fd, target, sizeof target);
      r = mount(NULL, target, NULL, rest | MS_BIND | MS_REMOUNT | (in_userns() ? vfs_flags(target) : 0), NULL);
      close(fd);
      if (r < 0) return fail(errno, "remount bind with options");
    }
  } else {
    r = mount(src, target, type, flags & ~MS_REMOUNT, data[0] ? data : NULL);
    close(fd);
    if (r < 0) return fail(errno, "mount %s", type);
  }
  if (prop) {
    fd = open_in_root(rootfd, dest, 0, is_dir);
    if (fd < 0) return -1;
    fdpath(fd, target, sizeof target);
    r = mount(NULL, target, NULL, prop, NULL);
    close(fd);
    if (r < 0) return fail(errno, "set propagation");
  }
  return 0;
}

static int make_device(int rootfd, const char *path, char type, unsigned maj, unsigned min, unsigned mode, uid_t uid, gid_t gid) {
  char parent[PATH_MAX]; snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  const char *name = slash ? slash + 1 : parent;
  if (slash == parent) strcpy(parent, "/"); else if (slash) *slash = 0;
  int pfd = open_in_root(rootfd, parent, 1, 1);
  if (pfd < 0) return -1;
  char pp[64]; fdpath(pfd, pp, sizeof pp);
  int dfd = open(pp, O_DIRECTORY | O_CLOEXEC);
  close(pfd);
  if (dfd < 0) return fail(errno, "open \"%s\"", parent);
  mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  unlinkat(dfd, name, 0);
  int r = mknodat(dfd, name, kind | (mode & 07777), makedev(maj, min));
  if (r < 0 && errno == EPERM && kind != S_IFIFO) {
    /* mknod refused: bind the host's node instead */
    int f = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) { int e = errno; close(dfd); return fail(e, "create \"%s\"", path); }
    char host[PATH_MAX]; snprintf(host, sizeof host, "%s", path);
    char ft[64]; fdpath(f, ft, sizeof ft);
    close(f);
    int nf = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    fdpath(nf, ft, sizeof ft);
    r = mount(host, ft, NULL, MS_BIND, NULL);
    close(nf);
    close(dfd);
    return r < 0 ? fail(errno, "bind device \"%s\"", host) : 0;
  }
  if (r < 0) { int e = errno; close(dfd); return fail(e, "mknod \"%s\"", path); }
  fchmodat(dfd, name, mode & 07777, 0);
  fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  close(dfd);
  return 0;
}

static int setup_dev(int rootfd, const struct jv *cfg) {
  static const struct { const char *path; unsigned maj, min; } defaults[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7}, {"/dev/random", 1, 8},
    {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
  };
  struct jv *devs = jpath(cfg, "linux.devices");
  for (unsigned i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
    int listed = 0;
    for (struct jv *d = devs ? devs->child : NULL; d; d = d->next)
      if (!strcmp(jstr(jget(d, "path"), ""), defaults[i].path)) listed = 1;
    if (!listed && make_device(rootfd, defaults[i].path, 'c', defaults[i].maj, defaults[i].min, 0666, 0, 0) < 0)
      return wrap("create device \"%s\"", defaults[i].path);
  }
  for (struct jv *d = devs ? devs->child : NULL; d; d = d->next) {
    const char *path = jstr(jget(d, "path"), "");
    const char *type = jstr(jget(d, "type"), "c");
    if (path[0] != '/') return failx("device path \"%s\" must be absolute", path);
    if (make_device(rootfd, path, type[0] == 'u' ? 'c' : type[0], (unsigned)jint(jget(d, "major"), 0), (unsigned)jint(jget(d, "minor"), 0),
                    (unsigned)jint(jget(d, "fileMode"), 0666), (uid_t)jint(jget(d, "uid"), 0), (gid_t)jint(jget(d, "gid"), 0)) < 0)
      return wrap("create device \"%s\"", path);
  }
  int fd = open_in_root(rootfd, "/dev", 0, 1);
  if (fd < 0) return -1;
  char pp[64]; fdpath(fd, pp, sizeof pp);
  int dfd = open(pp, O_DIRECTORY | O_CLOEXEC);
  close(fd);
  if (dfd < 0) return fail(errno, "open /dev");
  static const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                                   {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"}};
  for (unsigned i = 0; i < 5; i++) symlinkat(links[i][0], dfd, links[i][1]);
  struct stat sb;
  if (fstatat(dfd, "pts/ptmx", &sb, 0) == 0) { unlinkat(dfd, "ptmx", 0); symlinkat("pts/ptmx", dfd, "ptmx"); }
  close(dfd);
  return 0;
}

int rootfs_prepare(const struct jv *cfg, const char *bundle, int no_pivot, int cgv2, const char *cgpath) {
  const char *rp = jstr(jpath(cfg, "root.path"), "rootfs");
  char joined[PATH_MAX];
  if (rp[0] == '/') snprintf(joined, sizeof joined, "%s", rp); else snprintf(joined, sizeof joined, "%s/%s", bundle, rp);
  if (!realpath(joined, rootfs)) return fail(errno, "rootfs \"%s\"", joined);
  const char *propname = jstr(jpath(cfg, "linux.rootfsPropagation"), "rslave");
  unsigned long prop = MS_SLAVE | MS_REC;
  for (unsigned i = 0; i < sizeof props / sizeof props[0]; i++)
    if (!strcmp(propname, props[i].name)) prop = props[i].flag;
  if (prop & MS_SHARED) prop = MS_SLAVE | MS_REC; /* made shared again after pivot_root */
  if (mount(NULL, "/", NULL, prop, NULL) < 0) return fail(errno, "set propagation of \"/\"");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) return fail(errno, "bind rootfs \"%s\"", rootfs);
  /* pivot_root refuses a shared parent; the bind is private to this namespace anyway */
  mount(NULL, rootfs, NULL, MS_PRIVATE, NULL);
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(errno, "open rootfs \"%s\"", rootfs);
  int have_dev = 0;
  struct jv *mounts = jget(cfg, "mounts");
  for (struct jv *m = mounts ? mounts->child : NULL; m; m = m->next) {
    const char *dest = jstr(jget(m, "destination"), "?");
    if (mount_one(rootfd, bundle, m, cgv2, cgpath) < 0) { close(rootfd); return wrap("mount \"%s\"", dest); }
    if (!strcmp(dest, "/dev") && strcmp(jstr(jget(m, "type"), ""), "bind")) have_dev = 1;
  }
  if (have_dev && setup_dev(rootfd, cfg) < 0) { close(rootfd); return wrap("populate /dev"); }
  const char *cwd = jstr(jpath(cfg, "process.cwd"), "/");
  int cfd = open_in_root(rootfd, cwd, 1, 1);
  if (cfd < 0) { close(rootfd); return wrap("create working directory \"%s\"", cwd); }
  close(cfd);
  close(rootfd);
  (void)no_pivot;
  return 0;
}

int rootfs_pivot(const struct jv *cfg, int no_pivot) {
  if (no_pivot) {
    if (chdir(rootfs) < 0) return fail(errno, "chdir \"%s\"", rootfs);
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) return fail(errno, "move rootfs to /");
    if (chroot(".") < 0) return fail(errno, "chroot");
    if (chdir("/") < 0) return fail(errno, "chdir /");
  } else {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0 || newroot < 0) return fail(errno, "open roots");
    if (fchdir(newroot) < 0) return fail(errno, "chdir to rootfs");
    if (syscall(SYS_pivot_root, ".", ".") < 0) return fail(errno, "pivot_root");
    if (fchdir(oldroot) < 0) return fail(errno, "chdir to old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return fail(errno, "make old root slave");
    if (umount2(".", MNT_DETACH) < 0) return fail(errno, "unmount old root");
    if (chdir("/") < 0) return fail(errno, "chdir /");
    close(oldroot); close(newroot);
  }
  const char *propname = jstr(jpath(cfg, "linux.rootfsPropagation"), "");
  if (!strcmp(propname, "shared") || !strcmp(propname, "rshared"))
    if (mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL) < 0) return fail(errno, "make / shared");
  return 0;
}

static unsigned long vfs_flags(const char *path) {
  struct statvfs sv; unsigned long f = 0;
  if (statvfs(path, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  }
  return f;
}

int rootfs_finish(const struct jv *cfg) {
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(errno, "open /");
  char target[64];
  struct jv *list = jpath(cfg, "linux.maskedPaths");
  for (struct jv *p = list ? list->child : NULL; p; p = p->next) {
    const char *path = jstr(p, "");
    int fd = openat2_in_root(rootfd, path, 0);
    if (fd < 0) { if (errno == ENOENT) continue; close(rootfd); return fail(errno, "mask \"%s\"", path); }
    struct stat sb; fstat(fd, &sb);
    fdpath(fd, target, sizeof target);
    int r = S_ISDIR(sb.st_mode) ? mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0k") : mount("/dev/null", target, NULL, MS_BIND, NULL);
    int e = errno;
    close(fd);
    if (r < 0) { close(rootfd); return fail(e, "mask \"%s\"", path); }
  }
  list = jpath(cfg, "linux.readonlyPaths");
  for (struct jv *p = list ? list->child : NULL; p; p = p->next) {
    const char *path = jstr(p, "");
    int fd = openat2_in_root(rootfd, path, 0);
    if (fd < 0) { if (errno == ENOENT) continue; close(rootfd); return fail(errno, "make \"%s\" read-only", path); }
    fdpath(fd, target, sizeof target);
    int r = mount(target, target, NULL, MS_BIND | MS_REC, NULL);
    int e = errno;
    close(fd);
    if (r < 0) { close(rootfd); return fail(e, "make \"%s\" read-only", path); }
    fd = openat2_in_root(rootfd, path, 0);
    if (fd < 0) { close(rootfd); return fail(errno, "make \"%s\" read-only", path); }
    fdpath(fd, target, sizeof target);
    r = mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | vfs_flags(target), NULL);
    e = errno;
    close(fd);
    if (r < 0) { close(rootfd); return fail(e, "make \"%s\" read-only", path); }
  }
  close(rootfd);
  if (jbool(jpath(cfg, "root.readonly"), 0))
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | vfs_flags("/"), NULL) < 0) return fail(errno, "make rootfs read-only");
  return 0;
}
