/* `berth-runtime host-batch`: host-side steps of many containers in one process, so berth does
 * not start a `mount`, `umount` or `ip -n` process per container. berth (TypeScript) decides
 * every step; this only carries them out. One step per stdin line, fields separated by tabs:
 *
 *   mount-overlay DIR OPTIONS TARGET   chdir(DIR), then mount an overlay with OPTIONS on TARGET
 *                                      (the options name the layers relative to DIR, see
 *                                      src/images/rootfs/overlay.ts)
 *   umount TARGET                      unmount TARGET, lazily when busy; not mounted is fine
 *   netns NSPATH FILE                  run `ip -batch FILE` inside the network namespace NSPATH
 *                                      (setns only: no mount namespace or sysfs work)
 *
 * One answer per step on stdout, in any order: "INDEX ok" or "INDEX error MESSAGE" (INDEX counts
 * steps from 0). `netns` steps run as child processes, several at a time, while the rest go on.
 * The exit status is 0 when the input was readable, whatever the steps' results. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FIELDS 4
#define MAX_CHILDREN 8

struct child { pid_t pid; int index; int out; };
static struct child children[MAX_CHILDREN];
static int nchildren;

static void answer(int index, const char *error) {
  if (!error) { printf("%d ok\n", index); fflush(stdout); return; }
  printf("%d error ", index);
  /* one line per answer: newlines in the message become spaces */
  for (const char *p = error; *p; p++) putchar(*p == '\n' || *p == '\t' ? ' ' : *p);
  putchar('\n');
  fflush(stdout);
}

static void answer_errno(int index, const char *what, const char *target, int errnum) {
  char msg[4600];
  snprintf(msg, sizeof msg, "%s %s: %s", what, target, strerror(errnum));
  answer(index, msg);
}

/* Waits for one child and answers for it with what it printed when it failed. */
static void reap_one(void) {
  int status;
  pid_t pid = wait(&status);
  if (pid < 0) return;
  for (int i = 0; i < nchildren; i++) {
    if (children[i].pid != pid) continue;
    struct child c = children[i];
    children[i] = children[--nchildren];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) { answer(c.index, NULL); close(c.out); return; }
    char out[2048] = "";
    ssize_t n = pread(c.out, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = 0;
    close(c.out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = 0;
    if (!out[0]) snprintf(out, sizeof out, "ip exited with %d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    answer(c.index, out);
    return;
  }
}

static void run_netns(int index, const char *nspath, const char *file) {
  while (nchildren >= MAX_CHILDREN) reap_one();
  int ns = open(nspath, O_RDONLY | O_CLOEXEC);
  if (ns < 0) { answer_errno(index, "open network namespace", nspath, errno); return; }
  int out = memfd_create("berth-netns", MFD_CLOEXEC);
  if (out < 0) { close(ns); answer_errno(index, "memfd for", nspath, errno); return; }
  pid_t pid = fork();
  if (pid < 0) { close(ns); close(out); answer_errno(index, "fork for", nspath, errno); return; }
  if (pid == 0) {
    if (setns(ns, CLONE_NEWNET) < 0) { dprintf(out, "enter network namespace %s: %s", nspath, strerror(errno)); _exit(1); }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out, 1);
    dup2(out, 2);
    execlp("ip", "ip", "-batch", file, (char *)NULL);
    dprintf(out, "run ip: %s", strerror(errno));
    _exit(127);
  }
  close(ns);
  children[nchildren++] = (struct child){ .pid = pid, .index = index, .out = out };
}

static void run_mount(int index, const char *dir, const char *options, const char *target) {
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (chdir(dir) < 0) { answer_errno(index, "enter layer directory", dir, errno); }
  else if (mount("overlay", target, "overlay", 0, options) < 0) { answer_errno(index, "mount overlay on", target, errno); }
  else answer(index, NULL);
  if (cwd >= 0) { if (fchdir(cwd) < 0) {} close(cwd); }
}

static void run_umount(int index, const char *target) {
  if (umount2(target, UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT) { answer(index, NULL); return; }
  if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) { answer(index, NULL); return; }
  answer_errno(index, "unmount", target, errno);
}

int cmd_host_batch(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int index = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
    char *fields[MAX_FIELDS] = { 0 };
    int n = 0;
    for (char *p = line, *tab; n < MAX_FIELDS && p; p = tab ? tab + 1 : NULL, n++) {
      tab = strchr(p, '\t');
      if (tab) *tab = 0;
      fields[n] = p;
    }
    if (n == 4 && !strcmp(fields[0], "mount-overlay")) run_mount(index, fields[1], fields[2], fields[3]);
    else if (n == 2 && !strcmp(fields[0], "umount")) run_umount(index, fields[1]);
    else if (n == 3 && !strcmp(fields[0], "netns")) run_netns(index, fields[1], fields[2]);
    else answer(index, "unknown step (expected mount-overlay, umount or netns with their fields)");
    index++;
  }
  free(line);
  while (nchildren > 0) reap_one();
  return 0;
}
