/* Per-container state directory <root>/<id>: state.json (written by create), exec.fifo (present
 * until start), started (start time), exit.json (written by the monitor). Writes are atomic. */
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

char g_root[4096] = "/run/berth/runtime";

int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 200 || id[0] == '.') return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_+-.", *p))) return 0;
  return 1;
}

void now_rfc3339(char *buf, size_t size) {
  struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm; gmtime_r(&ts.tv_sec, &tm);
  char base[32]; strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

int write_file_atomic(const char *path, const char *data, size_t len) {
  char tmp[4200]; snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errno, "create \"%s\"", tmp);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) { int e = errno; close(fd); unlink(tmp); return fail(e, "write \"%s\"", tmp); }
    off += w;
  }
  fsync(fd);
  close(fd);
  if (rename(tmp, path) < 0) { int e = errno; unlink(tmp); return fail(e, "rename to \"%s\"", path); }
  return 0;
}

int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "open \"%s\"", path);
  ssize_t w = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  if (w < 0) return fail(e, "write \"%s\" to \"%s\"", data, path);
  return 0;
}

int read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "open \"%s\"", path);
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = read(fd, buf + n, size - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  close(fd);
  buf[n] = 0;
  return (int)n;
}

unsigned long long proc_start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p || p[1] == 0) return 0;
  if (p[2] == 'Z' || p[2] == 'X') return 0; /* exited, not yet reaped */
  /* fields after ')': state is field 3; starttime is field 22 */
  int field = 2; char *save = NULL;
  for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (++field == 22) return strtoull(tok, NULL, 10);
  }
  return 0;
}

static void load_exit(struct state *st) {
  char path[4200]; snprintf(path, sizeof path, "%s/exit.json", st->dir);
  if (access(path, F_OK) != 0) return;
  char keep[2048]; snprintf(keep, sizeof keep, "%s", err_message());
  struct jv *e = json_load(path);
  err_set_raw(keep, 0);
  if (!e) return;
  st->have_exit = 1;
  st->exit_code = (int)jint(jget(e, "exitCode"), -1);
  st->exit_signal = (int)jint(jget(e, "exitSignal"), 0);
  snprintf(st->finished, sizeof st->finished, "%s", jstr(jget(e, "finishedAt"), ""));
  json_free(e);
}

int state_load(const char *id, struct state *st) {
  memset(st, 0, sizeof *st);
  if (!valid_id(id)) return failx("invalid container id \"%s\"", id);
  snprintf(st->id, sizeof st->id, "%s", id);
  snprintf(st->dir, sizeof st->dir, "%s/%s", g_root, id);
  char path[4200]; snprintf(path, sizeof path, "%s/state.json", st->dir);
  if (access(st->dir, F_OK) != 0) return failx("container \"%s\" does not exist", id);
  struct jv *j = json_load(path);
  if (!j) return wrap("read state of container \"%s\"", id);
  st->pid = (pid_t)jint(jget(j, "pid"), 0);
  st->start_time = (unsigned long long)jint(jget(j, "startTime"), 0);
  st->monitor = (pid_t)jint(jget(j, "monitorPid"), 0);
  snprintf(st->bundle, sizeof st->bundle, "%s", jstr(jget(j, "bundle"), ""));
  snprintf(st->cgroup, sizeof st->cgroup, "%s", jstr(jget(j, "cgroupPath"), ""));
  snprintf(st->created, sizeof st->created, "%s", jstr(jget(j, "created"), ""));
  const char *cgroot = jstr(jget(j, "cgroupRoot"), NULL);
  if (cgroot && *cgroot) setenv("BERTH_CGROUP_ROOT", cgroot, 1); /* where create put the cgroup */
  struct jv *a = jget(j, "annotations");
  if (a) {
    /* detach the annotations subtree so it outlives the document */
    struct jv **pp = &j->child;
    while (*pp && *pp != a) pp = &(*pp)->next;
    if (*pp) *pp = a->next;
    a->next = NULL;
    st->annotations = a;
  }
  json_free(j);
  snprintf(path, sizeof path, "%s/started", st->dir);
  if (read_file(path, st->started, sizeof st->started) < 0) st->started[0] = 0, err_set_raw("", 0);
  load_exit(st);
  /* the container is gone but its monitor is still draining logs: wait briefly for exit.json so
   * that "stopped" always comes with its exit code */
  for (int i = 0; i < 200 && !st->have_exit && st->monitor > 0 && st->pid > 0 &&
       proc_start_time(st->pid) != st->start_time && proc_start_time(st->monitor) != 0; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    load_exit(st);
  }
  return 0;
}

int state_save(const struct state *st) {
  char *buf = NULL; size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return fail(errno, "open_memstream");
  fprintf(f, "{\"id\":"); json_write_str(f, st->id);
  fprintf(f, ",\"pid\":%d,\"startTime\":%llu,\"monitorPid\":%d,\"bundle\":", (int)st->pid, st->start_time, (int)st->monitor);
  json_write_str(f, st->bundle);
  fprintf(f, ",\"cgroupPath\":"); json_write_str(f, st->cgroup);
  fprintf(f, ",\"created\":"); json_write_str(f, st->created);
  const char *cgroot = getenv("BERTH_CGROUP_ROOT");
  if (cgroot && *cgroot) { fprintf(f, ",\"cgroupRoot\":"); json_write_str(f, cgroot); }
  fprintf(f, ",\"annotations\":");
  if (st->annotations) json_write(f, st->annotations); else fputs("{}", f);
  fputs("}\n", f);
  fclose(f);
  char path[4200]; snprintf(path, sizeof path, "%s/state.json", st->dir);
  int r = write_file_atomic(path, buf, len);
  free(buf);
  return r;
}

const char *state_status(const struct state *st) {
  if (st->have_exit) return "stopped";
  if (st->pid <= 0) return "creating";
  if (proc_start_time(st->pid) != st->start_time) return "stopped";
  char path[4200]; snprintf(path, sizeof path, "%s/exec.fifo", st->dir);
  if (access(path, F_OK) == 0) return "created";
  if (st->cgroup[0] && cg_frozen(st->cgroup) == 1) return "paused";
  return "running";
}

void state_print(FILE *f, const struct state *st) {
  const char *status = state_status(st);
  int alive = strcmp(status, "stopped") != 0;
  fprintf(f, "{\n  \"ociVersion\": \"%s\",\n  \"id\": ", BERTH_SPEC_VERSION);
  json_write_str(f, st->id);
  fprintf(f, ",\n  \"status\": \"%s\",\n  \"pid\": %d,\n  \"bundle\": ", status, alive ? (int)st->pid : 0);
  json_write_str(f, st->bundle);
  fputs(",\n  \"rootfs\": ", f);
  char rootfs[4200]; snprintf(rootfs, sizeof rootfs, "%s/rootfs", st->bundle);
  json_write_str(f, rootfs);
  fputs(",\n  \"created\": ", f); json_write_str(f, st->created);
  fputs(",\n  \"annotations\": ", f);
  if (st->annotations) json_write(f, st->annotations); else fputs("{}", f);
  if (st->started[0]) { fputs(",\n  \"startedAt\": ", f); json_write_str(f, st->started); }
  if (st->have_exit) {
    fprintf(f, ",\n  \"exitCode\": %d", st->exit_code);
    if (st->exit_signal) fprintf(f, ",\n  \"exitSignal\": %d", st->exit_signal);
    if (st->finished[0]) { fputs(",\n  \"finishedAt\": ", f); json_write_str(f, st->finished); }
  }
  if (st->monitor) fprintf(f, ",\n  \"monitorPid\": %d", (int)st->monitor);
  fputs("\n}\n", f);
}

int write_exit(const char *dir, int code, int sig) {
  char ts[64], buf[256], path[4200];
  now_rfc3339(ts, sizeof ts);
  int n = snprintf(buf, sizeof buf, "{\"exitCode\":%d,\"exitSignal\":%d,\"finishedAt\":\"%s\"}\n", code, sig, ts);
  snprintf(path, sizeof path, "%s/exit.json", dir);
  return write_file_atomic(path, buf, n);
}

int rm_rf(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) < 0) return errno == ENOENT ? 0 : fail(errno, "stat \"%s\"", path);
  if (S_ISDIR(sb.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[4200]; snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
      }
      closedir(d);
    }
    if (rmdir(path) < 0) return fail(errno, "remove \"%s\"", path);
  } else if (unlink(path) < 0) return fail(errno, "remove \"%s\"", path);
  return 0;
}
