/* Terminals: a pty allocated inside the container's devpts; the master goes to the caller over
 * --console-socket (SCM_RIGHTS, like runc) or, for attached runs, is relayed to our stdio. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int pty_open(int *master, int *slave) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return fail(errno, "open /dev/ptmx");
  int unlock = 0, n;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) { close(m); return fail(errno, "unlock pty"); }
  char name[64]; snprintf(name, sizeof name, "/dev/pts/%d", n);
  int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) { int e = errno; close(m); return fail(e, "open \"%s\"", name); }
  *master = m; *slave = s;
  return 0;
}

int slave_become_tty(int slave) {
  if (setsid() < 0) return fail(errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return fail(errno, "set controlling terminal");
  for (int fd = 0; fd < 3; fd++) if (dup2(slave, fd) < 0) return fail(errno, "dup2 pty");
  if (slave > 2) close(slave);
  return 0;
}

int send_fd(int sock, int fd) {
  char byte = 'm';
  struct iovec iov = {&byte, 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) return fail(errno, "send pty master");
  return 0;
}

int recv_fd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return fail(errno, "receive pty master");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return failx("receive pty master: no descriptor");
  int fd; memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int console_connect(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return failx("console socket path \"%s\" too long", path);
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail(errno, "socket");
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) { int e = errno; close(s); return fail(e, "connect console socket \"%s\"", path); }
  return s;
}

static struct termios saved; static int saved_ok;
static void restore_tty(void) { if (saved_ok) tcsetattr(0, TCSANOW, &saved); }

static int relay_master = -1;
static void copy_winsize(int sig) {
  (void)sig;
  struct winsize ws;
  if (relay_master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(relay_master, TIOCSWINSZ, &ws);
}

int pty_relay(int master, pid_t child) {
  (void)child;
  relay_master = master;
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_handler = copy_winsize; /* a resized caller terminal resizes the container's pty */
  sigaction(SIGWINCH, &sa, NULL);
  if (isatty(0) && tcgetattr(0, &saved) == 0) {
    saved_ok = 1; atexit(restore_tty);
    struct termios raw = saved; cfmakeraw(&raw); tcsetattr(0, TCSANOW, &raw);
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  char buf[8192];
  int in_open = 1;
  for (;;) {
    struct pollfd p[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int n = poll(p, in_open ? 2 : 1, -1);
    if (n < 0) { if (errno == EINTR) continue; break; }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r <= 0) break;
      for (ssize_t off = 0; off < r;) { ssize_t w = write(1, buf + off, r - off); if (w <= 0) break; off += w; }
    }
    if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) { in_open = 0; char eot = 4; if (write(master, &eot, 1) < 0) {} continue; }
      if (write(master, buf, r) < 0) break;
    }
  }
  restore_tty();
  return 0;
}
