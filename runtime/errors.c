/* Error chain: the innermost failure records what and errno; each caller prefixes its context.
 * Printed once: `create container "web-1": set up mounts: mount "/data": Permission denied`. */
#include "berth.h"
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <stdlib.h>

static char msg[2048];
static char full[2300];
static int msg_errno;
static int log_fd = -1, log_json;

static void vset(int errnum, const char *fmt, va_list ap) {
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg_errno = errnum;
}

int fail(int errnum, const char *fmt, ...) {
  va_list ap; va_start(ap, fmt); vset(errnum, fmt, ap); va_end(ap);
  return -1;
}

int failx(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt); vset(0, fmt, ap); va_end(ap);
  return -1;
}

int wrap(const char *fmt, ...) {
  char prefix[1024], old[sizeof msg];
  va_list ap; va_start(ap, fmt); vsnprintf(prefix, sizeof prefix, fmt, ap); va_end(ap);
  memcpy(old, msg, sizeof old);
  snprintf(msg, sizeof msg, "%s: %s", prefix, old);
  return -1;
}

void err_set_raw(const char *m, int errnum) { snprintf(msg, sizeof msg, "%s", m); msg_errno = errnum; }
int err_errno(void) { return msg_errno; }
const char *err_message(void) { return msg; }

const char *err_text(void) {
  if (msg_errno) snprintf(full, sizeof full, "%s: %s", msg, strerror(msg_errno));
  else snprintf(full, sizeof full, "%s", msg);
  return full;
}

void log_setup(const char *path, int json) {
  log_json = json;
  if (!path) { log_fd = -1; return; } /* after close_other_fds: the descriptor is gone */
  if (path) log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static void log_line(const char *level, const char *text, int errnum) {
  if (log_fd < 0) return;
  char ts[64]; now_rfc3339(ts, sizeof ts);
  FILE *f = fdopen(dup(log_fd), "w");
  if (!f) return;
  if (log_json) {
    fputs("{\"level\":", f); json_write_str(f, level);
    fputs(",\"message\":", f); json_write_str(f, text);
    if (errnum) fprintf(f, ",\"errno\":%d", errnum);
    fputs(",\"time\":", f); json_write_str(f, ts); fputs("}\n", f);
  } else {
    fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, text);
  }
  fclose(f);
}

void log_msg(const char *level, const char *fmt, ...) {
  char text[2048];
  va_list ap; va_start(ap, fmt); vsnprintf(text, sizeof text, fmt, ap); va_end(ap);
  log_line(level, text, 0);
}

/* Human text on stderr; one JSON line {"message","errno"} on the --log file, and on fd 3 when
 * BERTH_ERROR_FD=3 is set by the driver, so src/runtime can build a RuntimeError. */
void err_report(void) {
  const char *t = err_text();
  fprintf(stderr, "berth-runtime: %s\n", t);
  if (log_fd >= 0) {
    if (log_json) {
      char ts[64]; now_rfc3339(ts, sizeof ts);
      FILE *f = fdopen(dup(log_fd), "w");
      if (f) {
        fputs("{\"level\":\"error\",\"message\":", f); json_write_str(f, t);
        fprintf(f, ",\"errno\":%d,\"time\":", msg_errno); json_write_str(f, ts); fputs("}\n", f);
        fclose(f);
      }
    } else log_line("error", t, msg_errno);
  }
  const char *efd = getenv("BERTH_ERROR_FD");
  if (efd && *efd) {
    int fd = atoi(efd);
    if (fd > 2 && fcntl(fd, F_GETFD) >= 0) {
      FILE *f = fdopen(dup(fd), "w");
      if (f) {
        fputs("{\"message\":", f); json_write_str(f, t);
        fprintf(f, ",\"errno\":%d}\n", msg_errno);
        fclose(f);
      }
    }
  }
}
