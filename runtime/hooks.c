/* OCI hooks: each runs with the container state JSON on stdin, its own args/env, and an optional
 * timeout (seconds) after which it is killed and counted as failed. */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run_one(const struct jv *h, const char *kind, const char *state_json, size_t state_len) {
  const char *path = jstr(jget(h, "path"), NULL);
  if (!path || path[0] != '/') return failx("%s hook: path must be absolute", kind);
  struct jv *args = jget(h, "args"), *env = jget(h, "env");
  char **argv = calloc(jlen(args) + 2, sizeof *argv), **envp = calloc(jlen(env) + 1, sizeof *envp);
  if (!argv || !envp) { free(argv); free(envp); return fail(ENOMEM, "%s hook", kind); }
  size_t k = 0;
  for (struct jv *a = args ? args->child : NULL; a; a = a->next) argv[k++] = a->str;
  if (k == 0) argv[k++] = (char *)path;
  k = 0;
  for (struct jv *e = env ? env->child : NULL; e; e = e->next) envp[k++] = e->str;
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) { free(argv); free(envp); return fail(errno, "pipe"); }
  pid_t pid = fork();
  if (pid < 0) { free(argv); free(envp); return fail(errno, "fork %s hook", kind); }
  if (pid == 0) {
    dup2(in[0], 0);
    close_fds_from(3);
    execve(path, argv, envp);
    _exit(127);
  }
  free(argv); free(envp);
  close(in[0]);
  signal(SIGPIPE, SIG_IGN);
  if (write(in[1], state_json, state_len) < 0) { /* a hook need not read its stdin */ }
  close(in[1]);
  long long timeout = jint(jget(h, "timeout"), 0);
  struct timespec start; clock_gettime(CLOCK_MONOTONIC, &start);
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return fail(errno, "wait for %s hook \"%s\"", kind, path);
    struct timespec now; clock_gettime(CLOCK_MONOTONIC, &now);
    if (timeout > 0 && now.tv_sec - start.tv_sec >= timeout) {
      kill(pid, SIGKILL); waitpid(pid, &status, 0);
      return failx("%s hook \"%s\" timed out after %llds", kind, path, timeout);
    }
    struct timespec ts = {0, 10 * 1000 * 1000}; nanosleep(&ts, NULL);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFEXITED(status)) return failx("%s hook \"%s\" exited with status %d", kind, path, WEXITSTATUS(status));
  return failx("%s hook \"%s\" killed by signal %d", kind, path, WTERMSIG(status));
}

int hooks_run(const struct jv *cfg, const char *kind, const struct state *st, const char *status) {
  struct jv *list = jget(jget(cfg, "hooks"), kind);
  if (!list || !list->child) return 0;
  char *buf = NULL; size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return fail(errno, "open_memstream");
  fprintf(f, "{\"ociVersion\":\"%s\",\"id\":", BERTH_SPEC_VERSION); json_write_str(f, st->id);
  fprintf(f, ",\"status\":\"%s\",\"pid\":%d,\"bundle\":", status, (int)st->pid); json_write_str(f, st->bundle);
  fputs(",\"annotations\":", f);
  if (st->annotations) json_write(f, st->annotations); else if (jget(cfg, "annotations")) json_write(f, jget(cfg, "annotations")); else fputs("{}", f);
  fputs("}", f);
  fclose(f);
  int r = 0;
  for (struct jv *h = list->child; h && r == 0; h = h->next) r = run_one(h, kind, buf, len);
  free(buf);
  return r;
}
