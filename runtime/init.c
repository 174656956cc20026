/* run.berth.init: the runtime stays as PID 1 of the container, reaps every orphan, forwards
 * signals to its one child and exits with that child's status (what tini does for Docker). */
#include "berth.h"
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

void init_run(pid_t child) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  close_fds_from(3);
  for (int fd = 3; fd < 1024; fd++) close(fd); /* init never execs: really close host fds */
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) { if (errno == EINTR) continue; _exit(1); }
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p == child) {
        if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
      }
    }
  }
}
