/* cgroups v1 and v2, detected at run time: v2 when /sys/fs/cgroup is the unified hierarchy,
 * otherwise one directory per v1 controller (hybrid hosts: the unified mount is left alone). */
#include "berth.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* BERTH_CGROUP_ROOT moves the hierarchy root; tests use it to drive the v2 code on a hybrid
 * host's unified mount. The state records the root so later commands find the cgroup. */
static const char *cg_root(void);
static const char *cat2(const char *a, const char *b) { static char buf[4200]; snprintf(buf, sizeof buf, "%s%s", a, b); return buf; }
static const char *cg_root(void) {
  const char *r = getenv("BERTH_CGROUP_ROOT");
  return r && *r ? r : "/sys/fs/cgroup";
}
static const char *v1_ctrls[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer"};
#define NV1 (sizeof v1_ctrls / sizeof v1_ctrls[0])

int cg_version(void) { return access(cat2(cg_root(), "/cgroup.controllers"), F_OK) == 0 ? 2 : 1; }

int cg_path_for(const struct jv *cfg, const char *id, char *out, size_t size) {
  const char *p = jstr(jpath(cfg, "linux.cgroupsPath"), NULL);
  char buf[4096];
  if (!p || !*p) snprintf(buf, sizeof buf, "/%s", id); /* runc's default for cgroupfs */
  else if (p[0] != '/') {
    /* systemd form "slice:prefix:name" is taken as a plain path slice/prefix-name */
    char a[1024] = "", b[1024] = "", c[1024] = "";
    if (sscanf(p, "%1023[^:]:%1023[^:]:%1023s", a, b, c) == 3) snprintf(buf, sizeof buf, "/%s/%s-%s", a, b, c);
    else snprintf(buf, sizeof buf, "/%s", p);
  } else snprintf(buf, sizeof buf, "%s", p);
  if (strstr(buf, "/../") || strstr(buf, "/..") == buf + strlen(buf) - 3) return failx("cgroupsPath \"%s\" must not contain \"..\"", buf);
  snprintf(out, size, "%s", buf);
  return 0;
}

static int mkdir_p(const char *path) {
  char buf[4096]; snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return fail(errno, "mkdir \"%s\"", buf);
    *p = '/';
  }
  if (mkdir(buf, 0755) < 0 && errno != EEXIST) return fail(errno, "mkdir \"%s\"", buf);
  return 0;
}

static int set(const char *dir, const char *file, const char *value) {
  char path[4200]; snprintf(path, sizeof path, "%s/%s", dir, file);
  if (write_file(path, value) < 0) return -1;
  return 0;
}

static int setll(const char *dir, const char *file, long long v) {
  char buf[32]; snprintf(buf, sizeof buf, "%lld", v);
  return set(dir, file, buf);
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems; copy them down from the parent */
static int cpuset_fill(const char *path) {
  char parent[4096], dir[4096];
  snprintf(dir, sizeof dir, "%s/cpuset%s", cg_root(), path);
  for (char *p = dir + strlen(cg_root()) + strlen("/cpuset") + 1; ; p++) {
    char *slash = strchr(p, '/');
    char cur[4096];
    if (slash) { memcpy(cur, dir, slash - dir); cur[slash - dir] = 0; } else snprintf(cur, sizeof cur, "%s", dir);
    snprintf(parent, sizeof parent, "%s", cur);
    *strrchr(parent, '/') = 0;
    for (int i = 0; i < 2; i++) {
      const char *f = i ? "cpuset.mems" : "cpuset.cpus";
      char v[512], path2[4200];
      snprintf(path2, sizeof path2, "%s/%s", cur, f);
      if (read_file(path2, v, sizeof v) < 0) return -1;
      if (v[0] == 0 || v[0] == '\n') {
        snprintf(path2, sizeof path2, "%s/%s", parent, f);
        if (read_file(path2, v, sizeof v) < 0) return -1;
        if (set(cur, f, v) < 0) return -1;
      }
    }
    if (!slash) break;
    p = slash;
  }
  return 0;
}

static int v1_apply(const char *path, const struct jv *res) {
  char dir[4200];
  for (unsigned i = 0; i < NV1; i++) {
    snprintf(dir, sizeof dir, "%s/%s", cg_root(), v1_ctrls[i]);
    if (access(dir, F_OK) != 0) continue;
    snprintf(dir, sizeof dir, "%s/%s%s", cg_root(), v1_ctrls[i], path);
    if (mkdir_p(dir) < 0) return -1;
  }
  snprintf(dir, sizeof dir, "%s/cpuset%s", cg_root(), path);
  if (access(dir, F_OK) == 0 && cpuset_fill(path) < 0) return wrap("cpuset");
  if (!res) return 0;
  struct jv *m = jget(res, "memory"), *c = jget(res, "cpu"), *p = jget(res, "pids"), *b = jget(res, "blockIO");
  snprintf(dir, sizeof dir, "%s/memory%s", cg_root(), path);
  if (jget(m, "limit") && jint(jget(m, "limit"), 0) > 0) {
    long long lim = jint(jget(m, "limit"), -1), swap = jint(jget(m, "swap"), 0);
    char memsw[4300]; snprintf(memsw, sizeof memsw, "%s/memory.memsw.limit_in_bytes", dir);
    int have_sw = access(memsw, F_OK) == 0;
    /* limit and memsw constrain each other: raise memsw first when growing */
    if (have_sw && swap != 0) setll(dir, "memory.memsw.limit_in_bytes", swap);
    if (setll(dir, "memory.limit_in_bytes", lim) < 0) return wrap("memory limit");
    if (have_sw && swap != 0 && setll(dir, "memory.memsw.limit_in_bytes", swap) < 0) return wrap("memory+swap limit");
    if (have_sw && swap == 0) setll(dir, "memory.memsw.limit_in_bytes", lim);
  }
  if (jget(m, "reservation") && setll(dir, "memory.soft_limit_in_bytes", jint(jget(m, "reservation"), 0)) < 0) return wrap("memory reservation");
  snprintf(dir, sizeof dir, "%s/cpu%s", cg_root(), path);
  if (jget(c, "shares") && setll(dir, "cpu.shares", jint(jget(c, "shares"), 1024)) < 0) return wrap("cpu shares");
  if (jget(c, "period") && setll(dir, "cpu.cfs_period_us", jint(jget(c, "period"), 100000)) < 0) return wrap("cpu period");
  if (jget(c, "quota") && setll(dir, "cpu.cfs_quota_us", jint(jget(c, "quota"), -1)) < 0) return wrap("cpu quota");
  snprintf(dir, sizeof dir, "%s/cpuset%s", cg_root(), path);
  if (jstr(jget(c, "cpus"), NULL) && *jstr(jget(c, "cpus"), "") && set(dir, "cpuset.cpus", jstr(jget(c, "cpus"), "")) < 0) return wrap("cpuset cpus");
  if (jstr(jget(c, "mems"), NULL) && *jstr(jget(c, "mems"), "") && set(dir, "cpuset.mems", jstr(jget(c, "mems"), "")) < 0) return wrap("cpuset mems");
  snprintf(dir, sizeof dir, "%s/pids%s", cg_root(), path);
  if (jget(p, "limit")) {
    long long l = jint(jget(p, "limit"), -1);
    if (l > 0 ? setll(dir, "pids.max", l) < 0 : set(dir, "pids.max", "max") < 0) return wrap("pids limit");
  }
  snprintf(dir, sizeof dir, "%s/blkio%s", cg_root(), path);
  if (jget(b, "weight") && access(dir, F_OK) == 0) {
    char wf[4300]; snprintf(wf, sizeof wf, "%s/blkio.weight", dir);
    const char *f = access(wf, F_OK) == 0 ? "blkio.weight" : "blkio.bfq.weight";
    if (setll(dir, f, jint(jget(b, "weight"), 500)) < 0) return wrap("blkio weight");
  }
  snprintf(dir, sizeof dir, "%s/devices%s", cg_root(), path);
  struct jv *devs = jget(res, "devices");
  if (devs && access(dir, F_OK) == 0) {
    for (struct jv *d = devs->child; d; d = d->next) {
      char rule[128], maj[24] = "*", min[24] = "*";
      if (jget(d, "major") && jint(jget(d, "major"), -1) >= 0) snprintf(maj, sizeof maj, "%lld", jint(jget(d, "major"), 0));
      if (jget(d, "minor") && jint(jget(d, "minor"), -1) >= 0) snprintf(min, sizeof min, "%lld", jint(jget(d, "minor"), 0));
      const char *type = jstr(jget(d, "type"), "a");
      const char *access_ = jstr(jget(d, "access"), "rwm");
      if (!*type) type = "a";
      if (type[0] == 'a') snprintf(rule, sizeof rule, "a");
      else snprintf(rule, sizeof rule, "%c %s:%s %s", type[0], maj, min, access_);
      if (set(dir, jbool(jget(d, "allow"), 0) ? "devices.allow" : "devices.deny", rule) < 0) return wrap("device rule \"%s\"", rule);
    }
  }
  return 0;
}

static int v2_apply(const char *path, const struct jv *res) {
  char dir[4200], cur[4200];
  snprintf(dir, sizeof dir, "%s%s", cg_root(), path);
  if (mkdir_p(dir) < 0) return -1;
  /* enable controllers from the root down to the parent of the container's cgroup */
  snprintf(cur, sizeof cur, "%s", cg_root());
  const char *p = path;
  while (*p) {
    char avail[1024], want[1024] = "";
    if (read_file(strcat(strcpy(avail, cur), "/cgroup.controllers"), avail, sizeof avail) < 0) return -1;
    static const char *ctrls[] = {"cpu", "cpuset", "io", "memory", "pids"};
    for (unsigned i = 0; i < 5; i++) {
      char *hit = strstr(avail, ctrls[i]);
      size_t l = strlen(ctrls[i]);
      if (hit && (hit == avail || hit[-1] == ' ') && (hit[l] == ' ' || hit[l] == '\n' || hit[l] == 0)) {
        strcat(want, "+"); strcat(want, ctrls[i]); strcat(want, " ");
      }
    }
    char sc[4300]; snprintf(sc, sizeof sc, "%s/cgroup.subtree_control", cur);
    if (want[0]) {
      /* one at a time: a controller that cannot be enabled must not block the others */
      char *save = NULL;
      for (char *t = strtok_r(want, " ", &save); t; t = strtok_r(NULL, " ", &save)) write_file(sc, t);
    }
    const char *slash = strchr(p + 1, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    strncat(cur, p, n);
    p += n;
    if (!*p) break;
  }
  if (!res) return 0;
  struct jv *m = jget(res, "memory"), *c = jget(res, "cpu"), *pi = jget(res, "pids"), *b = jget(res, "blockIO");
  if (jget(m, "limit")) {
    long long lim = jint(jget(m, "limit"), -1), swap = jint(jget(m, "swap"), 0);
    if (lim > 0 ? setll(dir, "memory.max", lim) < 0 : set(dir, "memory.max", "max") < 0) return wrap("memory limit");
    char sw[4300]; snprintf(sw, sizeof sw, "%s/memory.swap.max", dir);
    if (access(sw, F_OK) == 0) {
      if (swap == -1) set(dir, "memory.swap.max", "max");
      else if (swap > 0 && lim > 0 && setll(dir, "memory.swap.max", swap > lim ? swap - lim : 0) < 0) return wrap("swap limit");
      else if (swap == 0 && lim > 0) setll(dir, "memory.swap.max", 0);
    }
  }
  if (jget(m, "reservation") && setll(dir, "memory.low", jint(jget(m, "reservation"), 0)) < 0) return wrap("memory reservation");
  if (jget(c, "shares")) {
    long long s = jint(jget(c, "shares"), 1024);
    long long w = s <= 2 ? 1 : 1 + ((s - 2) * 9999) / 262142;
    if (w > 10000) w = 10000;
    if (setll(dir, "cpu.weight", w) < 0) return wrap("cpu weight");
  }
  if (jget(c, "quota") || jget(c, "period")) {
    long long q = jint(jget(c, "quota"), -1), per = jint(jget(c, "period"), 100000);
    char v[64];
    if (q > 0) snprintf(v, sizeof v, "%lld %lld", q, per); else snprintf(v, sizeof v, "max %lld", per);
    if (set(dir, "cpu.max", v) < 0) return wrap("cpu max");
  }
  if (*jstr(jget(c, "cpus"), "") && set(dir, "cpuset.cpus", jstr(jget(c, "cpus"), "")) < 0) return wrap("cpuset cpus");
  if (*jstr(jget(c, "mems"), "") && set(dir, "cpuset.mems", jstr(jget(c, "mems"), "")) < 0) return wrap("cpuset mems");
  if (jget(pi, "limit")) {
    long long l = jint(jget(pi, "limit"), -1);
    if (l > 0 ? setll(dir, "pids.max", l) < 0 : set(dir, "pids.max", "max") < 0) return wrap("pids limit");
  }
  if (jget(b, "weight")) {
    long long w = jint(jget(b, "weight"), 500);
    char f[4300]; snprintf(f, sizeof f, "%s/io.weight", dir);
    if (access(f, F_OK) == 0) {
      char v[64]; snprintf(v, sizeof v, "default %lld", 1 + (w - 10) * 9999 / 990);
      if (set(dir, "io.weight", v) < 0) return wrap("io weight");
    }
  }
  struct jv *devs = jget(res, "devices");
  if (devs && devs->child && devices_bpf_attach(dir, devs) < 0) return wrap("device rules");
  return 0;
}

/* The character devices every container gets in /dev (null, zero, full, random, urandom, tty,
 * ptmx, the devpts slaves) stay usable whatever rules a config lists, as runc does: a config
 * whose only rule is "deny all" would otherwise break /dev/null. Appended last, so they win. */
static const char default_device_rules[] =
  "[{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":2,\"access\":\"rwm\"},"
  "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"}]";

static int add_default_device_rules(struct jv *res) {
  struct jv *devs = jget(res, "devices");
  if (!devs || !devs->child) return 0; /* no rules: the cgroup allows everything anyway */
  struct jv *defaults = json_parse(default_device_rules, sizeof default_device_rules - 1);
  if (!defaults) return -1;
  struct jv *last = devs->child;
  while (last->next) last = last->next;
  last->next = defaults->child;
  defaults->child = NULL;
  json_free(defaults);
  return 0;
}

int cg_create(const struct jv *cfg, const char *path) {
  struct jv *res = jpath(cfg, "linux.resources");
  if (res && add_default_device_rules(res) < 0) return wrap("default device rules");
  int r = cg_version() == 2 ? v2_apply(path, res) : v1_apply(path, res);
  if (r < 0) { wrap("cgroup \"%s\"", path); char keep[2048]; snprintf(keep, sizeof keep, "%s", err_message()); int e = err_errno(); cg_destroy(path); err_set_raw(keep, e); }
  return r;
}

int cg_join(const char *path, pid_t pid) {
  char dir[4200], v[32];
  snprintf(v, sizeof v, "%d", (int)pid);
  if (cg_version() == 2) {
    snprintf(dir, sizeof dir, "%s%s", cg_root(), path);
    return set(dir, "cgroup.procs", v) < 0 ? wrap("join cgroup \"%s\"", path) : 0;
  }
  for (unsigned i = 0; i < NV1; i++) {
    snprintf(dir, sizeof dir, "%s/%s%s", cg_root(), v1_ctrls[i], path);
    if (access(dir, F_OK) != 0) continue;
    if (set(dir, "cgroup.procs", v) < 0) return wrap("join cgroup \"%s\"", path);
  }
  return 0;
}

static int rmdir_retry(const char *dir) {
  for (int i = 0; i < 100; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) return fail(errno, "remove cgroup \"%s\"", dir);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return fail(EBUSY, "remove cgroup \"%s\"", dir);
}

int cg_destroy(const char *path) {
  char dir[4200]; int r = 0;
  if (!path[0] || !strcmp(path, "/")) return 0;
  if (cg_version() == 2) { snprintf(dir, sizeof dir, "%s%s", cg_root(), path); return rmdir_retry(dir); }
  for (unsigned i = 0; i < NV1; i++) {
    snprintf(dir, sizeof dir, "%s/%s%s", cg_root(), v1_ctrls[i], path);
    if (rmdir_retry(dir) < 0) r = -1;
  }
  return r;
}

int cg_freeze(const char *path, int freeze) {
  char dir[4200];
  if (cg_version() == 2) {
    snprintf(dir, sizeof dir, "%s%s", cg_root(), path);
    if (set(dir, "cgroup.freeze", freeze ? "1" : "0") < 0) return -1;
    /* freezing is asynchronous: report done only once cgroup.events says so */
    for (int i = 0; i < 200; i++) {
      if (cg_frozen(path) == freeze) return 0;
      struct timespec ts = {0, 10 * 1000 * 1000}; nanosleep(&ts, NULL);
    }
    return failx("cgroup \"%s\" did not %s within 2 s", path, freeze ? "freeze" : "thaw");
  }
  snprintf(dir, sizeof dir, "%s/freezer%s", cg_root(), path);
  if (set(dir, "freezer.state", freeze ? "FROZEN" : "THAWED") < 0) return -1;
  for (int i = 0; i < 200; i++) {
    char v[64], f[4300]; snprintf(f, sizeof f, "%s/freezer.state", dir);
    if (read_file(f, v, sizeof v) < 0) return -1;
    if (!strncmp(v, freeze ? "FROZEN" : "THAWED", 6)) return 0;
    struct timespec ts = {0, 10 * 1000 * 1000}; nanosleep(&ts, NULL);
    if (freeze) set(dir, "freezer.state", "FROZEN");
  }
  return failx("freezer did not reach the requested state");
}

int cg_frozen(const char *path) {
  char f[4200], v[256];
  if (cg_version() == 2) {
    snprintf(f, sizeof f, "%s%s/cgroup.events", cg_root(), path);
    if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return 0; }
    return strstr(v, "frozen 1") != NULL;
  }
  snprintf(f, sizeof f, "%s/freezer%s/freezer.state", cg_root(), path);
  if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return 0; }
  return !strncmp(v, "FROZEN", 6) || !strncmp(v, "FREEZING", 8);
}

int cg_pids(const char *path, pid_t *out, int max) {
  char f[4200];
  if (cg_version() == 2) snprintf(f, sizeof f, "%s%s/cgroup.procs", cg_root(), path);
  else {
    snprintf(f, sizeof f, "%s/pids%s/cgroup.procs", cg_root(), path);
    if (access(f, F_OK) != 0) snprintf(f, sizeof f, "%s/memory%s/cgroup.procs", cg_root(), path);
  }
  FILE *fp = fopen(f, "re");
  if (!fp) return fail(errno, "open \"%s\"", f);
  int n = 0, pid;
  while (n < max && fscanf(fp, "%d", &pid) == 1) out[n++] = pid;
  fclose(fp);
  return n;
}

int cg_kill_all(const char *path, int sig) {
  pid_t pids[4096];
  int n = cg_pids(path, pids, 4096);
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) kill(pids[i], sig);
  return n;
}

static long long read_ll(const char *path, const char *file) {
  char f[4300], v[64]; snprintf(f, sizeof f, "%s/%s", path, file);
  if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return -1; }
  if (!strncmp(v, "max", 3)) return -2;
  return strtoll(v, NULL, 10);
}

static long long stat_field(const char *path, const char *file, const char *key) {
  char f[4300], v[8192]; snprintf(f, sizeof f, "%s/%s", path, file);
  if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return -1; }
  size_t kl = strlen(key);
  for (char *line = v; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (!strncmp(line, key, kl) && line[kl] == ' ') return strtoll(line + kl + 1, NULL, 10);
  return -1;
}

/* bytes read/written by the cgroup: v2 io.stat "rbytes=/wbytes=", v1 blkio Read/Write lines */
static void io_bytes(const char *path, long long *rd, long long *wr) {
  char f[4200], v[16384];
  if (cg_version() == 2) {
    snprintf(f, sizeof f, "%s%s/io.stat", cg_root(), path);
    if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return; }
    for (char *p = v; (p = strstr(p, "bytes=")); p += 6) {
      if (p > v && p[-1] == 'r') *rd += strtoll(p + 6, NULL, 10);
      else if (p > v && p[-1] == 'w') *wr += strtoll(p + 6, NULL, 10);
    }
    return;
  }
  snprintf(f, sizeof f, "%s/blkio%s/blkio.throttle.io_service_bytes", cg_root(), path);
  if (read_file(f, v, sizeof v) < 0) { err_set_raw("", 0); return; }
  for (char *line = v; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    char dev[64], op[16]; long long n;
    if (sscanf(line, "%63s %15s %lld", dev, op, &n) != 3) continue;
    if (!strcmp(op, "Read")) *rd += n; else if (!strcmp(op, "Write")) *wr += n;
  }
}

int cg_stats(const char *path, FILE *f) {
  char d[4200];
  long long mem, lim, cpu, pids, pidmax, cache = -1;
  if (cg_version() == 2) {
    snprintf(d, sizeof d, "%s%s", cg_root(), path);
    mem = read_ll(d, "memory.current"); lim = read_ll(d, "memory.max");
    long long us = stat_field(d, "cpu.stat", "usage_usec");
    cpu = us >= 0 ? us * 1000 : -1;
    pids = read_ll(d, "pids.current"); pidmax = read_ll(d, "pids.max");
    cache = stat_field(d, "memory.stat", "file");
  } else {
    snprintf(d, sizeof d, "%s/memory%s", cg_root(), path);
    mem = read_ll(d, "memory.usage_in_bytes"); lim = read_ll(d, "memory.limit_in_bytes");
    cache = stat_field(d, "memory.stat", "total_cache");
    snprintf(d, sizeof d, "%s/cpuacct%s", cg_root(), path);
    cpu = read_ll(d, "cpuacct.usage");
    snprintf(d, sizeof d, "%s/pids%s", cg_root(), path);
    pids = read_ll(d, "pids.current"); pidmax = read_ll(d, "pids.max");
  }
  long long rd = 0, wr = 0;
  io_bytes(path, &rd, &wr);
  fprintf(f, "{\"cgroupVersion\":%d,\"memory\":{\"usage\":%lld,\"limit\":%lld,\"cache\":%lld},\"cpu\":{\"usageNs\":%lld},\"pids\":{\"current\":%lld,\"limit\":%lld},\"io\":{\"readBytes\":%lld,\"writeBytes\":%lld}}\n",
          cg_version(), mem, lim == -2 ? 0 : lim, cache, cpu, pids, pidmax == -2 ? 0 : pidmax, rd, wr);
  return 0;
}
