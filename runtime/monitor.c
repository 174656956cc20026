/* The per-container monitor: parent of the container's init, detached from the CLI (setsid,
 * double fork). It writes stdout/stderr to a Docker json-file log with size-based rotation,
 * reaps the container and records the exit status atomically in the state dir. Kept small:
 * static buffers, no allocation in the loop. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384 /* Docker splits longer lines into several entries */

void log_cfg_from(const struct jv *cfg, struct log_cfg *lc) {
  struct jv *a = jget(cfg, "annotations");
  memset(lc, 0, sizeof *lc);
  snprintf(lc->path, sizeof lc->path, "%s", jstr(jget(a, "run.berth.log.path"), ""));
  char *end;
  lc->max_size = strtoll(jstr(jget(a, "run.berth.log.max-size"), "0"), &end, 10);
  /* bytes, or Docker's k/m/g suffixes */
  if (*end == 'k' || *end == 'K') lc->max_size <<= 10;
  else if (*end == 'm' || *end == 'M') lc->max_size <<= 20;
  else if (*end == 'g' || *end == 'G') lc->max_size <<= 30;
  lc->max_file = atoi(jstr(jget(a, "run.berth.log.max-file"), "1"));
  if (lc->max_file < 1) lc->max_file = 1;
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

static const struct log_cfg *cfg;
static int log_fd = -1;
static long long log_size;
static char linebuf[2][LINE_MAX_BYTES];
static size_t linelen[2];
static char out[LINE_MAX_BYTES * 6 + 256];

static void log_open(void) {
  log_fd = open(cfg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  struct stat sb;
  log_size = log_fd >= 0 && fstat(log_fd, &sb) == 0 ? sb.st_size : 0;
}

static void log_rotate(void) {
  close(log_fd);
  char from[4200], to[4200];
  if (cfg->max_file > 1) {
    for (int i = cfg->max_file - 1; i >= 1; i--) {
      if (i == 1) snprintf(from, sizeof from, "%s", cfg->path); else snprintf(from, sizeof from, "%s.%d", cfg->path, i - 1);
      snprintf(to, sizeof to, "%s.%d", cfg->path, i);
      rename(from, to);
    }
  } else truncate(cfg->path, 0);
  log_open();
}

static void emit(int stream, const char *text, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  memcpy(out + o, "{\"log\":\"", 8); o += 8;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
    else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
    else if (c < 0x20 || c == 0x7f) { memcpy(out + o, "\\u00", 4); o += 4; out[o++] = hex[c >> 4]; out[o++] = hex[c & 15]; }
    else out[o++] = (char)c;
  }
  char ts[64]; now_rfc3339(ts, sizeof ts);
  o += snprintf(out + o, sizeof out - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream ? "stderr" : "stdout", ts);
  if (log_fd < 0) return;
  if (cfg->max_size > 0 && log_size > 0 && log_size + (long long)o > cfg->max_size) log_rotate();
  for (size_t off = 0; off < o;) {
    ssize_t w = write(log_fd, out + off, o - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += w;
  }
  log_size += o;
}

static void take(int stream, const char *data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    linebuf[stream][linelen[stream]++] = data[i];
    if (data[i] == '\n' || linelen[stream] == LINE_MAX_BYTES) {
      emit(stream, linebuf[stream], linelen[stream]);
      linelen[stream] = 0;
    }
  }
}

void monitor_loop(int out_fd, int err_fd, int tty_sock, pid_t child, const struct log_cfg *lc, const char *statedir) {
  cfg = lc;
  if (lc->path[0]) log_open();
  sigset_t set; sigemptyset(&set); sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  /* stdout, stderr, then the pty master (logged as stdout) once the init sent it on tty_sock */
  int fds[3] = {out_fd, err_fd, -1};
  int exited = 0, status = 0, idle_after_exit = 0;
  char buf[8192];
  for (;;) {
    struct pollfd p[5] = {{sfd, POLLIN, 0}, {fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}, {fds[2], POLLIN, 0}, {tty_sock, POLLIN, 0}};
    int open_pipes = (fds[0] >= 0) + (fds[1] >= 0) + (fds[2] >= 0) + (tty_sock >= 0);
    if (exited && open_pipes == 0) break;
    int n = poll(p, 5, exited ? 100 : (open_pipes ? -1 : 1000));
    if (n < 0 && errno != EINTR) break;
    if (!exited) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      if (waitpid(child, &status, WNOHANG) == child) exited = 1;
    }
    if (n == 0 && exited && ++idle_after_exit >= 3) break; /* orphans holding the pipes: stop waiting */
    if (tty_sock >= 0 && (p[4].revents & (POLLIN | POLLHUP | POLLERR))) {
      fds[2] = recv_fd(tty_sock); /* -1 when the init died before sending it */
      close(tty_sock); tty_sock = -1;
      idle_after_exit = 0;
    }
    for (int i = 0; i < 3; i++) {
      if (fds[i] < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[i], buf, sizeof buf);
      /* a pty master reads EIO once no process holds the terminal: its end */
      if (r > 0) { take(i == 2 ? 0 : i, buf, r); idle_after_exit = 0; }
      else if (r == 0 || (errno != EINTR && errno != EAGAIN)) { close(fds[i]); fds[i] = -1; }
    }
  }
  for (int i = 0; i < 2; i++) if (linelen[i]) emit(i, linebuf[i], linelen[i]);
  write_exit(statedir, status_to_code(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  _exit(0);
}

static volatile pid_t fwd_pid;
static void forward(int sig) { if (fwd_pid > 0) kill(fwd_pid, sig); }

void forward_signals(pid_t child) {
  fwd_pid = child;
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

int wait_child_forwarding(pid_t child) {
  forward_signals(child);
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return fail(errno, "wait for container");
  return status;
}
