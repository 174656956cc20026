/* create / start / run / kill / delete / exec: the lifecycle, tying namespaces, cgroups, mounts
 * and the process together. The CLI and the container init talk over a SOCK_SEQPACKET pair:
 * the init reports MSG_READY or MSG_ERROR (its error chain), the monitor reports the host pid. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int sync_send(int fd, int type, int pid) {
  struct sync_msg m; memset(&m, 0, sizeof m);
  m.type = type; m.pid = pid;
  return send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0 ? fail(errno, "sync send") : 0;
}

int sync_send_error(int fd) {
  struct sync_msg m; memset(&m, 0, sizeof m);
  m.type = MSG_ERROR; m.err = err_errno();
  snprintf(m.text, sizeof m.text, "%s", err_message());
  return send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* MSG_PTY carries the pty master in the same datagram (SCM_RIGHTS): two separate sends could
 * interleave with the monitor's or the exec helper's MSG_PID */
static int sync_send_pty(int fd, int master) {
  struct sync_msg m; memset(&m, 0, sizeof m);
  m.type = MSG_PTY;
  struct iovec iov = {&m, sizeof m};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof master);
  return sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? fail(errno, "send pty master") : 0;
}

/* one message; a descriptor that came with it (MSG_PTY) is stored in m->err */
static int sync_recv(int fd, struct sync_msg *m) {
  for (;;) {
    struct iovec iov = {m, sizeof *m};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int passed; memcpy(&passed, CMSG_DATA(c), sizeof passed);
      if ((size_t)r == sizeof *m && m->type == MSG_PTY) m->err = passed; else close(passed);
    } else if ((size_t)r == sizeof *m && m->type == MSG_PTY) m->err = -1;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(errno, "sync receive");
    if (r == 0) return 0;
    if ((size_t)r != sizeof *m) return failx("sync receive: short message");
    m->text[sizeof m->text - 1] = 0;
    return 1;
  }
}

int parse_signal(const char *s) {
  static const struct { const char *n; int s; } sigs[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
    {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
  };
  char *end; long n = strtol(s, &end, 10);
  if (*s && !*end) return n > 0 && n < 65 ? (int)n : -1;
  const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) if (!strcasecmp(name, sigs[i].n)) return sigs[i].s;
  if (!strncasecmp(name, "RTMIN+", 6)) return SIGRTMIN + atoi(name + 6);
  return -1;
}

/* CVE-2019-5736 class: run from a sealed memfd copy so a container can never reach and rewrite
 * the runtime binary through /proc/<pid>/exe. */
int seal_self(char **argv) {
  if (getenv("_BERTH_SEALED")) { unsetenv("_BERTH_SEALED"); return 0; }
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) return fail(errno, "open /proc/self/exe");
  int mfd = (int)syscall(SYS_memfd_create, "berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) { close(src); return fail(errno, "memfd_create"); }
  char buf[65536]; ssize_t r;
  while ((r = read(src, buf, sizeof buf)) > 0)
    if (write(mfd, buf, r) != r) { close(src); close(mfd); return fail(errno, "copy runtime binary"); }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) { close(mfd); return fail(errno, "seal memfd"); }
  setenv("_BERTH_SEALED", "1", 1);
  fexecve(mfd, argv, environ);
  int e = errno; close(mfd); unsetenv("_BERTH_SEALED");
  return fail(e, "re-exec sealed runtime");
}

/* /proc inside the container must be a real procfs before we write through it (sysctls, the
 * exec fifo by /proc/self/fd): an image cannot redirect those writes with a fake /proc. */
static int check_procfs(void) {
  struct statfs sf;
  if (statfs("/proc", &sf) < 0) return fail(errno, "statfs /proc");
  if (sf.f_type != PROC_SUPER_MAGIC) return failx("/proc in the container is not a procfs mount (add a \"proc\" mount)");
  return 0;
}

static int wait_start(int start_fd) {
  if (check_procfs() < 0) return -1;
  char fp[64]; snprintf(fp, sizeof fp, "/proc/self/fd/%d", start_fd);
  int w = open(fp, O_WRONLY | O_CLOEXEC);
  if (w < 0) return fail(errno, "open exec fifo");
  if (write(w, "0", 1) != 1) { int e = errno; close(w); return fail(e, "write exec fifo"); }
  close(w); close(start_fd);
  return 0;
}

struct child_ctx {
  const struct jv *cfg;
  struct create_opts *o;
  struct ns_plan *ns;
  char bundle[PATH_MAX], cgpath[4096];
  int sync, console, start_fd, out_w, err_w, in_fd, cgv2;
  struct state hookst;
};

static int child_setup(struct child_ctx *c) {
  const struct jv *cfg = c->cfg;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int keep[32], nk = 0;
  int fds[] = {c->sync, c->console, c->start_fd, c->out_w, c->err_w, c->in_fd, c->ns->join_pid_fd};
  for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) if (fds[i] >= 0) keep[nk++] = fds[i];
  for (int i = 0; i < c->ns->njoin && nk < 32; i++) keep[nk++] = c->ns->join_fd[i];
  close_other_fds(3 + c->o->preserve_fds, keep, nk);
  log_setup(NULL, 0);
  if (c->ns->userns) {
    /* born in a new user namespace: the parent maps our ids and puts us in the cgroup */
    struct sync_msg m;
    if (sync_send(c->sync, MSG_USERNS, 0) < 0) return -1;
    if (sync_recv(c->sync, &m) <= 0 || m.type != MSG_GO) return failx("user namespace set-up failed");
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) return fail(errno, "become root of the user namespace (is 0 mapped?)");
  } else if (cg_join(c->cgpath, 0) < 0) return -1;
  if (ns_apply(c->ns) < 0) return wrap("set up namespaces");
  struct jv *hooks = jget(cfg, "hooks");
  if ((jget(hooks, "prestart") && jget(hooks, "prestart")->child) || (jget(hooks, "createRuntime") && jget(hooks, "createRuntime")->child)) {
    struct sync_msg m;
    if (sync_send(c->sync, MSG_HOOKS, 0) < 0) return -1;
    if (sync_recv(c->sync, &m) <= 0 || m.type != MSG_GO) return failx("runtime hooks failed");
  }
  const char *oom = NULL; char oombuf[32];
  if (jpath(cfg, "process.oomScoreAdj")) { snprintf(oombuf, sizeof oombuf, "%lld", jint(jpath(cfg, "process.oomScoreAdj"), 0)); oom = oombuf; }
  /* in a user namespace the parent writes it: our own /proc entry is not ours to open there */
  if (oom && !c->ns->userns && write_file("/proc/self/oom_score_adj", oom) < 0) return wrap("set oomScoreAdj");
  if (rootfs_prepare(cfg, c->bundle, c->o->no_pivot, c->cgv2, c->cgpath) < 0) return wrap("set up mounts");
  if (hooks_run(cfg, "createContainer", &c->hookst, "creating") < 0) return -1;
  if (rootfs_pivot(cfg, c->o->no_pivot) < 0) return wrap("pivot root");
  const char *hn = jstr(jget(cfg, "hostname"), NULL), *dn = jstr(jget(cfg, "domainname"), NULL);
  if (hn && *hn && sethostname(hn, strlen(hn)) < 0) return fail(errno, "set hostname \"%s\"", hn);
  if (dn && *dn && setdomainname(dn, strlen(dn)) < 0) return fail(errno, "set domainname \"%s\"", dn);
  struct jv *sysctl = jpath(cfg, "linux.sysctl");
  if (sysctl && sysctl->child && check_procfs() < 0) return wrap("sysctl");
  for (struct jv *s = sysctl ? sysctl->child : NULL; s; s = s->next) {
    char path[512]; snprintf(path, sizeof path, "/proc/sys/%s", s->key);
    for (char *p = path + 10; *p; p++) if (*p == '.') *p = '/';
    if (strstr(path, "..")) return failx("invalid sysctl \"%s\"", s->key);
    if (write_file(path, jstr(s, "")) < 0) return wrap("sysctl \"%s\"", s->key);
  }
  if (rootfs_finish(cfg) < 0) return wrap("set up paths");
  if (jbool(jpath(cfg, "process.terminal"), 0)) {
    int master, slave;
    if (pty_open(&master, &slave) < 0) return wrap("allocate terminal");
    if (c->console >= 0) { if (send_fd(c->console, master) < 0) return -1; close(c->console); }
    else if (sync_send_pty(c->sync, master) < 0) return -1;
    close(master);
    if (slave_become_tty(slave) < 0) return -1;
  } else {
    if (c->out_w >= 0) { dup2(c->out_w, 1); dup2(c->err_w, 2); close(c->out_w); close(c->err_w); }
    if (c->in_fd >= 0) { dup2(c->in_fd, 0); close(c->in_fd); }
  }
  return 0;
}

static void container_child(struct child_ctx *c) {
  struct proc_opts po; memset(&po, 0, sizeof po);
  po.cfg = c->cfg; po.process = jget(c->cfg, "process"); po.preserve_fds = c->o->preserve_fds;
  po.init = !strcmp(jstr(jget(jget(c->cfg, "annotations"), "run.berth.init"), ""), "true");
  po.start_fd = -1;
  if (child_setup(c) < 0 || process_prepare(&po) < 0 || (c->start_fd >= 0 && check_procfs() < 0)) {
    sync_send_error(c->sync);
    _exit(1);
  }
  sync_send(c->sync, MSG_READY, 0);
  if (c->start_fd >= 0 && wait_start(c->start_fd) < 0) { err_report(); _exit(1); }
  c->hookst.pid = 1;
  if (hooks_run(c->cfg, "startContainer", &c->hookst, "running") < 0) { err_report(); _exit(1); }
  process_exec(&po);
}

static void cleanup_failed(const char *dir, const char *cgpath, pid_t child, pid_t monitor) {
  char keep[2048]; snprintf(keep, sizeof keep, "%s", err_message());
  int e = err_errno();
  if (child > 0) { kill(child, SIGKILL); }
  if (monitor > 0) kill(monitor, SIGKILL);
  if (child > 0) waitpid(child, NULL, 0);
  for (int i = 0; i < 200 && monitor > 0 && proc_start_time(monitor) != 0; i++) { struct timespec ts = {0, 10000000}; nanosleep(&ts, NULL); }
  if (cgpath[0]) cg_destroy(cgpath);
  rm_rf(dir);
  err_set_raw(keep, e);
}

static int write_pid_file(const char *path, pid_t pid) {
  if (!path) return 0;
  char buf[32]; int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  char abs[PATH_MAX];
  if (path[0] != '/') { char cwd[PATH_MAX]; if (!getcwd(cwd, sizeof cwd)) return fail(errno, "getcwd"); snprintf(abs, sizeof abs, "%s/%s", cwd, path); path = abs; }
  return write_file_atomic(path, buf, n);
}

static int do_delete(struct state *st, const struct jv *cfg);

int container_create(struct create_opts *o) {
  struct child_ctx c; memset(&c, 0, sizeof c);
  c.o = o; c.console = c.start_fd = c.out_w = c.err_w = c.in_fd = c.sync = -1;
  const char *bundle = o->bundle ? o->bundle : ".";
  if (!realpath(bundle, c.bundle)) return fail(errno, "bundle \"%s\"", bundle);
  if (!valid_id(o->id)) return failx("invalid container id \"%s\" (letters, digits, _ + - . allowed)", o->id);
  char path[PATH_MAX + 32]; snprintf(path, sizeof path, "%s/config.json", c.bundle);
  struct jv *cfg = json_load(path);
  if (!cfg) return wrap("create container \"%s\": load bundle", o->id);
  c.cfg = cfg;
  const char *ver = jstr(jget(cfg, "ociVersion"), "");
  if (strncmp(ver, "1.", 2)) { failx("unsupported ociVersion \"%s\" (1.x expected)", ver); goto early; }
  struct jv *args = jpath(cfg, "process.args");
  if (!args || !args->child) { failx("process.args must not be empty"); goto early; }
  if (seccomp_check(cfg) < 0) goto early;
  /* detached with a terminal: the master goes to the caller's console socket or, when the
   * container has a log file, to its monitor, which logs what the terminal prints */
  int tty_to_monitor = jbool(jpath(cfg, "process.terminal"), 0) && !o->console_socket && !o->attached_run;
  if (tty_to_monitor && !jstr(jget(jget(cfg, "annotations"), "run.berth.log.path"), "")[0]) {
    failx("process.terminal needs --console-socket (or a run.berth.log.path annotation) when the container is detached");
    goto early;
  }
  const char *rp = jstr(jpath(cfg, "root.path"), "rootfs");
  char rootfs[PATH_MAX + 8];
  if (rp[0] == '/') snprintf(rootfs, sizeof rootfs, "%s", rp); else snprintf(rootfs, sizeof rootfs, "%s/%s", c.bundle, rp);
  struct stat rsb;
  if (stat(rootfs, &rsb) < 0) { fail(errno, "rootfs \"%s\"", rootfs); goto early; }
  if (!S_ISDIR(rsb.st_mode)) { failx("rootfs \"%s\" is not a directory", rootfs); goto early; }
  struct ns_plan ns;
  if (ns_plan(cfg, &ns) < 0) { wrap("namespaces"); goto early; }
  c.ns = &ns;
  c.cgv2 = cg_version() == 2;
  if (cg_path_for(cfg, o->id, c.cgpath, sizeof c.cgpath) < 0) goto early;
  /* state dir: its creation is the lock against a second container with the same id */
  char mk[4200]; snprintf(mk, sizeof mk, "%s", g_root);
  for (char *p = mk + 1; *p; p++) if (*p == '/') { *p = 0; mkdir(mk, 0711); *p = '/'; }
  mkdir(mk, 0711);
  struct state st; memset(&st, 0, sizeof st);
  snprintf(st.id, sizeof st.id, "%s", o->id);
  snprintf(st.dir, sizeof st.dir, "%s/%s", g_root, o->id);
  snprintf(st.bundle, sizeof st.bundle, "%s", c.bundle);
  snprintf(st.cgroup, sizeof st.cgroup, "%s", c.cgpath);
  now_rfc3339(st.created, sizeof st.created);
  st.annotations = jget(cfg, "annotations");
  if (mkdir(st.dir, 0700) < 0) {
    if (errno == EEXIST) failx("container \"%s\" already exists", o->id);
    else fail(errno, "create state dir \"%s\"", st.dir);
    json_free(cfg);
    return -1;
  }
  c.hookst = st;
  pid_t child = -1, monitor = -1;
  if (state_save(&st) < 0) goto fail;
  if (cg_create(cfg, c.cgpath) < 0) { c.cgpath[0] = 0; goto fail; }
  if (!o->attached_run) {
    snprintf(path, sizeof path, "%s/exec.fifo", st.dir);
    if (mkfifo(path, 0600) < 0) { fail(errno, "mkfifo \"%s\"", path); goto fail; }
    c.start_fd = open(path, O_PATH | O_CLOEXEC);
    if (c.start_fd < 0) { fail(errno, "open \"%s\"", path); goto fail; }
    if (ns.userns) {
      /* the init opens the fifo as the container's root: give it to that host uid/gid */
      uid_t hu = 0; gid_t hg = 0;
      for (struct jv *m = jpath(cfg, "linux.uidMappings")->child; m; m = m->next)
        if (jint(jget(m, "containerID"), -1) == 0) hu = (uid_t)jint(jget(m, "hostID"), 0);
      for (struct jv *m = jpath(cfg, "linux.gidMappings")->child; m; m = m->next)
        if (jint(jget(m, "containerID"), -1) == 0) hg = (gid_t)jint(jget(m, "hostID"), 0);
      if (chown(path, hu, hg) < 0) { fail(errno, "chown \"%s\"", path); goto fail; }
    }
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { fail(errno, "socketpair"); goto fail; }
  c.sync = sp[1];
  if (o->console_socket && (c.console = console_connect(o->console_socket)) < 0) goto fail;
  int ttyp[2] = {-1, -1};
  if (tty_to_monitor) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ttyp) < 0) { fail(errno, "socketpair"); goto fail; }
    c.console = ttyp[1];
  }
  struct log_cfg lc; log_cfg_from(cfg, &lc);
  if (lc.path[0] && lc.path[0] != '/') {
    char cwd[2048], rel[sizeof lc.path];
    if (!getcwd(cwd, sizeof cwd)) { fail(errno, "getcwd"); goto fail; }
    snprintf(rel, sizeof rel, "%s", lc.path);
    snprintf(lc.path, sizeof lc.path, "%s/%s", cwd, rel);
  }
  if (lc.path[0]) {
    /* fail now, with the path named, rather than lose the output silently later */
    int lfd = open(lc.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (lfd < 0) { fail(errno, "open log file \"%s\"", lc.path); goto fail; }
    close(lfd);
  }
  if (!o->attached_run) {
    if (!strcmp(jstr(jget(jget(cfg, "annotations"), "run.berth.stdin"), ""), "true")) {
      snprintf(path, sizeof path, "%s/stdin", st.dir);
      if (mkfifo(path, 0600) < 0) { fail(errno, "mkfifo \"%s\"", path); goto fail; }
      c.in_fd = open(path, O_RDWR | O_CLOEXEC); /* O_RDWR: never EOF while writers come and go */
    } else if (lc.path[0]) c.in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  if (!o->attached_run && lc.path[0]) {
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) { fail(errno, "pipe"); goto fail; }
    c.out_w = outp[1]; c.err_w = errp[1];
  }
  if (o->attached_run) {
    if (ns_enter_pid(&ns) < 0) goto fail;
    child = clone_child(ns.new_flags & (CLONE_NEWPID | CLONE_NEWUSER));
    if (child < 0) goto fail;
    if (child == 0) { close(sp[0]); container_child(&c); }
  } else {
    pid_t a = fork();
    if (a < 0) { fail(errno, "fork"); goto fail; }
    if (a == 0) {
      close(sp[0]);
      setsid();
      pid_t b = fork();
      if (b != 0) _exit(b < 0 ? 1 : 0);
      if (ns_enter_pid(&ns) < 0) { sync_send_error(c.sync); _exit(1); }
      pid_t cpid = clone_child(ns.new_flags & (CLONE_NEWPID | CLONE_NEWUSER));
      if (cpid < 0) { sync_send_error(c.sync); _exit(1); }
      if (cpid == 0) container_child(&c);
      struct sync_msg m; memset(&m, 0, sizeof m);
      m.type = MSG_PID; m.pid = cpid; m.err = getpid();
      send(c.sync, &m, sizeof m, MSG_NOSIGNAL);
      close(c.sync);
      if (c.console >= 0) close(c.console);
      if (c.start_fd >= 0) close(c.start_fd);
      if (c.in_fd >= 0) close(c.in_fd);
      if (outp[1] >= 0) { close(outp[1]); close(errp[1]); }
      prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0); /* shows in ps as comm */
      int keep[3] = {outp[0], errp[0], ttyp[0]};
      close_other_fds(3, keep, 3);
      log_setup(NULL, 0);
      int nul = open("/dev/null", O_RDWR);
      if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); dup2(nul, 2); if (nul > 2) close(nul); }
      if (chdir("/") < 0) {}
      monitor_loop(outp[0], errp[0], ttyp[0], cpid, &lc, st.dir);
    }
    int ws;
    waitpid(a, &ws, 0);
  }
  close(sp[1]); c.sync = -1;
  if (c.console >= 0) { close(c.console); c.console = -1; }
  if (ttyp[0] >= 0) { close(ttyp[0]); ttyp[0] = -1; }
  if (outp[0] >= 0) { close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]); }
  if (c.in_fd >= 0) close(c.in_fd);
  int master = -1, userns_pending = 0;
  for (;;) {
    struct sync_msg m;
    int r = sync_recv(sp[0], &m);
    if (r < 0) goto fail_sp;
    if (r == 0) { failx("container init exited before it was ready"); goto fail_sp; }
    if (m.type == MSG_PID) { child = m.pid; monitor = m.err; st.pid = child; st.monitor = monitor; }
    if (m.type == MSG_USERNS) userns_pending = 1;
    if (userns_pending && child > 0) {
      /* the init's pid comes from the monitor, possibly after its request */
      userns_pending = 0;
      if (ns_write_maps(cfg, child) < 0 || cg_join(c.cgpath, child) < 0) { wrap("user namespace"); goto fail_sp; }
      if (jpath(cfg, "process.oomScoreAdj")) {
        char f[64], v[32];
        snprintf(f, sizeof f, "/proc/%d/oom_score_adj", (int)child);
        snprintf(v, sizeof v, "%lld", jint(jpath(cfg, "process.oomScoreAdj"), 0));
        if (write_file(f, v) < 0) { wrap("set oomScoreAdj"); goto fail_sp; }
      }
      sync_send(sp[0], MSG_GO, 0);
    }
    if (m.type == MSG_PID || m.type == MSG_USERNS) continue;
    else if (m.type == MSG_ERROR) { err_set_raw(m.text, m.err); goto fail_sp; }
    else if (m.type == MSG_PTY) { master = m.err; if (master < 0) { failx("pty master missing"); goto fail_sp; } }
    else if (m.type == MSG_HOOKS) {
      st.pid = child;
      if (hooks_run(cfg, "prestart", &st, "creating") < 0 || hooks_run(cfg, "createRuntime", &st, "creating") < 0) goto fail_sp;
      sync_send(sp[0], MSG_GO, 0);
    } else if (m.type == MSG_READY) break;
  }
  st.pid = child;
  st.start_time = proc_start_time(child);
  if (state_save(&st) < 0 || write_pid_file(o->pid_file, child) < 0) goto fail_sp;
  close(sp[0]);
  if (!o->attached_run) { json_free(cfg); return 0; }
  /* attached run: already started; poststart, wait, record, delete */
  now_rfc3339(st.started, sizeof st.started);
  snprintf(path, sizeof path, "%s/started", st.dir);
  write_file_atomic(path, st.started, strlen(st.started));
  if (hooks_run(cfg, "poststart", &st, "running") < 0) { err_report(); }
  int status;
  if (master >= 0) { forward_signals(child); pty_relay(master, child); close(master); }
  status = wait_child_forwarding(child);
  int code = status_to_code(status);
  write_exit(st.dir, code, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  st.have_exit = 1;
  if (do_delete(&st, cfg) < 0) err_report();
  json_free(cfg);
  return code;
early:
  json_free(cfg);
  return wrap("create container \"%s\"", o->id);
fail_sp:
  close(sp[0]);
fail:
  if (c.start_fd >= 0) close(c.start_fd);
  cleanup_failed(st.dir, c.cgpath, child, monitor);
  json_free(cfg);
  return wrap("create container \"%s\"", o->id);
}

int container_start(const char *id) {
  struct state st;
  if (state_load(id, &st) < 0) return -1;
  const char *status = state_status(&st);
  if (strcmp(status, "created")) return failx("cannot start container \"%s\": it is %s, not created", id, status);
  char path[4200]; snprintf(path, sizeof path, "%s/exec.fifo", st.dir);
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(errno, "start container \"%s\": open exec fifo", id);
  struct pollfd p = {fd, POLLIN, 0};
  int n = poll(&p, 1, 10000);
  char b;
  ssize_t r = n > 0 ? read(fd, &b, 1) : -1;
  close(fd);
  unlink(path);
  if (r != 1) return failx("start container \"%s\": the container init did not take the start signal (it exited?)", id);
  char ts[64]; now_rfc3339(ts, sizeof ts);
  snprintf(path, sizeof path, "%s/started", st.dir);
  write_file_atomic(path, ts, strlen(ts));
  snprintf(path, sizeof path, "%s/config.json", st.bundle);
  struct jv *cfg = json_load(path);
  if (cfg) { if (hooks_run(cfg, "poststart", &st, "running") < 0) err_report(); json_free(cfg); }
  json_free(st.annotations);
  return 0;
}

static int do_delete(struct state *st, const struct jv *cfg) {
  const char *status = state_status(st);
  if (strcmp(status, "stopped")) {
    if (st->cgroup[0]) cg_kill_all(st->cgroup, SIGKILL);
    if (st->pid > 0 && proc_start_time(st->pid) == st->start_time) kill(st->pid, SIGKILL);
    if (st->cgroup[0] && cg_frozen(st->cgroup)) cg_freeze(st->cgroup, 0);
    for (int i = 0; i < 500 && st->pid > 0 && proc_start_time(st->pid) == st->start_time; i++) {
      struct timespec ts = {0, 10000000}; nanosleep(&ts, NULL);
    }
  }
  /* the monitor records the exit and leaves; give it a moment so it does not write into a removed dir */
  for (int i = 0; i < 200 && st->monitor > 0 && kill(st->monitor, 0) == 0; i++) {
    char p[64], buf[512]; snprintf(p, sizeof p, "/proc/%d/stat", (int)st->monitor);
    if (read_file(p, buf, sizeof buf) > 0 && strstr(buf, ") Z")) break;
    struct timespec ts = {0, 10000000}; nanosleep(&ts, NULL);
  }
  if (cfg && hooks_run(cfg, "poststop", st, "stopped") < 0) err_report();
  int r = 0;
  if (st->cgroup[0]) {
    for (int i = 0; i < 3; i++) { cg_kill_all(st->cgroup, SIGKILL); if ((r = cg_destroy(st->cgroup)) == 0) break; }
    if (r < 0) wrap("delete container \"%s\"", st->id);
  }
  if (rm_rf(st->dir) < 0) return wrap("delete container \"%s\"", st->id);
  return r;
}

int container_delete(const char *id, int force) {
  struct state st;
  if (state_load(id, &st) < 0) {
    /* a half-created container may lack state.json: force removes what is there */
    char dir[4200]; snprintf(dir, sizeof dir, "%s/%s", g_root, id);
    if (force && valid_id(id) && access(dir, F_OK) == 0) return rm_rf(dir);
    return -1;
  }
  const char *status = state_status(&st);
  if (!force && strcmp(status, "stopped") && strcmp(status, "created"))
    return failx("cannot delete container \"%s\" that is %s: stop it first or use --force", id, status);
  char path[4200]; snprintf(path, sizeof path, "%s/config.json", st.bundle);
  char keep[2048]; snprintf(keep, sizeof keep, "%s", err_message());
  struct jv *cfg = json_load(path);
  if (!cfg) err_set_raw(keep, 0);
  int r = do_delete(&st, cfg);
  json_free(cfg); json_free(st.annotations);
  return r;
}

int container_kill(const char *id, int sig, int all) {
  struct state st;
  if (state_load(id, &st) < 0) return -1;
  const char *status = state_status(&st);
  json_free(st.annotations);
  if (!strcmp(status, "stopped")) return failx("cannot kill container \"%s\": it is not running", id);
  if (all && st.cgroup[0]) {
    if (cg_kill_all(st.cgroup, sig) < 0) return wrap("kill container \"%s\"", id);
    if (sig == SIGKILL && cg_frozen(st.cgroup)) cg_freeze(st.cgroup, 0);
    return 0;
  }
  if (kill(st.pid, sig) < 0) return fail(errno, "kill container \"%s\"", id);
  return 0;
}

int container_exec(struct exec_opts *o) {
  struct state st;
  if (state_load(o->id, &st) < 0) return -1;
  const char *status = state_status(&st);
  if (strcmp(status, "running")) return failx("cannot exec in container \"%s\": it is %s", o->id, status);
  char path[4200]; snprintf(path, sizeof path, "%s/config.json", st.bundle);
  struct jv *cfg = json_load(path);
  if (!cfg) return wrap("exec in container \"%s\"", o->id);
  struct jv *pfile = NULL;
  struct proc_opts po; memset(&po, 0, sizeof po);
  po.cfg = cfg; po.process = jget(cfg, "process"); po.start_fd = -1; po.preserve_fds = o->preserve_fds;
  if (o->process_file) {
    pfile = json_load(o->process_file);
    if (!pfile) { json_free(cfg); return wrap("exec in container \"%s\": --process", o->id); }
    po.process = pfile;
  } else if (o->nargs == 0) { json_free(cfg); return failx("exec in container \"%s\": no command given", o->id); }
  if (o->nargs) { po.args_override = o->args; po.n_args = o->nargs; }
  po.extra_env = o->env; po.n_extra_env = o->nenv;
  po.cwd_override = o->cwd; po.user_override = o->user;
  int tty = o->tty || (pfile && jbool(jget(pfile, "terminal"), 0));
  int console = -1;
  if (o->console_socket && (console = console_connect(o->console_socket)) < 0) { json_free(cfg); return -1; }
  if (tty && o->detach && console < 0) { json_free(cfg); return failx("exec --tty --detach needs --console-socket"); }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { json_free(cfg); return fail(errno, "socketpair"); }
  pid_t p = fork();
  if (p < 0) { json_free(cfg); return fail(errno, "fork"); }
  if (p == 0) {
    close(sp[0]);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int joined_pid;
    if ((st.cgroup[0] && cg_join(st.cgroup, 0) < 0) || ns_join_pid_of(st.pid, &joined_pid) < 0) { sync_send_error(sp[1]); _exit(1); }
    pid_t g = fork();
    if (g < 0) { fail(errno, "fork"); sync_send_error(sp[1]); _exit(1); }
    if (g == 0) {
      if (tty) {
        int master, slave;
        if (pty_open(&master, &slave) < 0) { sync_send_error(sp[1]); _exit(1); }
        if (console >= 0) send_fd(console, master);
        else if (sync_send_pty(sp[1], master) < 0) { sync_send_error(sp[1]); _exit(1); }
        close(master);
        if (slave_become_tty(slave) < 0) { sync_send_error(sp[1]); _exit(1); }
      }
      if (process_prepare(&po) < 0) { sync_send_error(sp[1]); _exit(127); }
      sync_send(sp[1], MSG_READY, 0);
      process_exec(&po);
    }
    sync_send(sp[1], MSG_PID, g);
    if (o->detach) _exit(0);
    close(sp[1]);
    int status;
    signal(SIGINT, SIG_IGN); signal(SIGTERM, SIG_IGN);
    while (waitpid(g, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) { signal(WTERMSIG(status), SIG_DFL); kill(getpid(), WTERMSIG(status)); }
    _exit(status_to_code(status));
  }
  close(sp[1]);
  if (console >= 0) close(console);
  pid_t g = -1; int master = -1, failed = 0;
  for (;;) {
    struct sync_msg m;
    int r = sync_recv(sp[0], &m);
    if (r <= 0) { if (r == 0) failx("exec process exited before it was ready"); failed = 1; break; }
    if (m.type == MSG_PID) g = m.pid;
    else if (m.type == MSG_PTY) master = m.err;
    else if (m.type == MSG_ERROR) { err_set_raw(m.text, m.err); failed = 1; break; }
    else if (m.type == MSG_READY) break;
  }
  close(sp[0]);
  json_free(cfg); json_free(pfile); json_free(st.annotations);
  if (failed) {
    int status; waitpid(p, &status, 0);
    wrap("exec in container \"%s\"", o->id);
    err_report();
    int code = status_to_code(status);
    return code ? code : 1;
  }
  if (o->detach) {
    int status; waitpid(p, &status, 0);
    if (write_pid_file(o->pid_file, g) < 0) { err_report(); return 1; }
    return 0;
  }
  if (write_pid_file(o->pid_file, g) < 0) err_report();
  if (master >= 0) { forward_signals(g); pty_relay(master, g); close(master); }
  forward_signals(g);
  int wstatus;
  while (waitpid(p, &wstatus, 0) < 0 && errno == EINTR) {}
  return status_to_code(wstatus);
}
