/* berth-runtime: executes OCI bundles with runc's command line. Argument parsing only; the work
 * lives in container.c and the files it calls. */
#include "berth.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage =
  "usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID\n"
  "commands: create, start, run, state, kill, delete, exec, pause, resume, ps, list, stats\n"
  "berth's own: host-batch (host-side mount, umount and network namespace steps read from stdin)\n";

/* option matching: "--name VALUE", "--name=VALUE", or a short alias */
static int opt_val(char **argv, int argc, int *i, const char *lng, const char *shrt, const char **out) {
  const char *a = argv[*i];
  size_t l = strlen(lng);
  if (!strncmp(a, lng, l) && a[l] == '=') { *out = a + l + 1; return 1; }
  if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt))) {
    if (*i + 1 >= argc) { failx("option %s needs a value", lng); err_report(); exit(2); }
    *out = argv[++*i];
    return 1;
  }
  return 0;
}

static int opt_flag(const char *a, const char *lng, const char *shrt) {
  return !strcmp(a, lng) || (shrt && !strcmp(a, shrt)) || (!strncmp(a, lng, strlen(lng)) && !strcmp(a + strlen(lng), "=true"));
}

static int finish(int r) {
  if (r < 0) { err_report(); return 1; }
  return r;
}

static int need_id(int argc, int i, const char *cmd) {
  if (i >= argc) { failx("%s: missing container id", cmd); err_report(); exit(2); }
  return i;
}

static int cmd_list(const char *format) {
  DIR *d = opendir(g_root);
  int json = format && !strcmp(format, "json");
  if (json) fputs("[", stdout); else printf("%-24s %-8s %-10s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  int first = 1;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || !valid_id(e->d_name)) continue;
      struct state st;
      if (state_load(e->d_name, &st) < 0) continue;
      const char *status = state_status(&st);
      int pid = strcmp(status, "stopped") ? st.pid : 0;
      if (json) {
        if (!first) fputs(",", stdout);
        first = 0;
        fputs("{\"ociVersion\":\"" BERTH_SPEC_VERSION "\",\"id\":", stdout); json_write_str(stdout, st.id);
        printf(",\"pid\":%d,\"status\":\"%s\",\"bundle\":", pid, status); json_write_str(stdout, st.bundle);
        fputs(",\"created\":", stdout); json_write_str(stdout, st.created);
        fputs(",\"annotations\":", stdout);
        if (st.annotations) json_write(stdout, st.annotations); else fputs("{}", stdout);
        fputs("}", stdout);
      } else printf("%-24s %-8d %-10s %-32s %s\n", st.id, pid, status, st.bundle, st.created);
      json_free(st.annotations);
    }
    closedir(d);
  }
  if (json) fputs("]\n", stdout);
  return 0;
}

static int cmd_ps(const char *id, const char *format) {
  struct state st;
  if (state_load(id, &st) < 0) return -1;
  json_free(st.annotations);
  pid_t pids[4096];
  int n = st.cgroup[0] && strcmp(state_status(&st), "stopped") ? cg_pids(st.cgroup, pids, 4096) : 0;
  if (n < 0) return wrap("ps \"%s\"", id);
  if (format && !strcmp(format, "json")) {
    fputs("[", stdout);
    for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", (int)pids[i]);
    fputs("]\n", stdout);
  } else {
    printf("PID CMD\n");
    for (int i = 0; i < n; i++) {
      char p[64], cmd[256]; snprintf(p, sizeof p, "/proc/%d/comm", (int)pids[i]);
      if (read_file(p, cmd, sizeof cmd) < 0) strcpy(cmd, "?\n");
      printf("%d %s", (int)pids[i], cmd);
    }
  }
  return 0;
}

static int cmd_pause(const char *id, int freeze) {
  struct state st;
  if (state_load(id, &st) < 0) return -1;
  json_free(st.annotations);
  const char *status = state_status(&st);
  if (freeze && strcmp(status, "running")) return failx("cannot pause container \"%s\": it is %s", id, status);
  if (!freeze && strcmp(status, "paused")) return failx("cannot resume container \"%s\": it is %s", id, status);
  if (cg_freeze(st.cgroup, freeze) < 0) return wrap("%s container \"%s\"", freeze ? "pause" : "resume", id);
  return 0;
}

int main(int argc, char **argv) {
  int i = 1;
  const char *logfile = NULL, *logfmt = "text", *v;
  if (getenv("BERTH_RUNTIME_ROOT")) snprintf(g_root, sizeof g_root, "%s", getenv("BERTH_RUNTIME_ROOT"));
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (opt_val(argv, argc, &i, "--root", NULL, &v)) snprintf(g_root, sizeof g_root, "%s", v);
    else if (opt_val(argv, argc, &i, "--log", NULL, &v)) logfile = v;
    else if (opt_val(argv, argc, &i, "--log-format", NULL, &v)) logfmt = v;
    else if (opt_val(argv, argc, &i, "--criu", NULL, &v) || opt_val(argv, argc, &i, "--rootless", NULL, &v)) {}
    else if (!strcmp(argv[i], "--debug") || !strcmp(argv[i], "--systemd-cgroup")) {}
    else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")) {
      printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, BERTH_SPEC_VERSION);
      return 0;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return 0; }
    else { fprintf(stderr, "berth-runtime: unknown global option \"%s\"\n%s", argv[i], usage); return 2; }
  }
  log_setup(logfile, !strcmp(logfmt, "json"));
  if (g_root[0] != '/') {
    /* the monitor runs from "/": keep every state path absolute */
    char cwd[2048], rel[4096];
    if (!getcwd(cwd, sizeof cwd)) { fail(errno, "getcwd"); return finish(-1); }
    snprintf(rel, sizeof rel, "%s", g_root);
    snprintf(g_root, sizeof g_root, "%s/%s", cwd, rel);
  }
  if (i >= argc) { fputs(usage, stderr); return 2; }
  const char *cmd = argv[i++];
  if (!strcmp(cmd, "host-batch")) return cmd_host_batch();
  if (!strcmp(cmd, "create") || !strcmp(cmd, "run")) {
    struct create_opts o; memset(&o, 0, sizeof o);
    int run = !strcmp(cmd, "run");
    for (; i < argc && argv[i][0] == '-'; i++) {
      if (opt_val(argv, argc, &i, "--bundle", "-b", &o.bundle) || opt_val(argv, argc, &i, "--pid-file", NULL, &o.pid_file) ||
          opt_val(argv, argc, &i, "--console-socket", NULL, &o.console_socket)) continue;
      if (opt_val(argv, argc, &i, "--preserve-fds", NULL, &v)) { o.preserve_fds = atoi(v); continue; }
      if (run && opt_flag(argv[i], "--detach", "-d")) { o.detach = 1; continue; }
      if (opt_flag(argv[i], "--no-pivot", NULL)) { o.no_pivot = 1; continue; }
      if (opt_flag(argv[i], "--no-new-keyring", NULL) || opt_flag(argv[i], "--keep", NULL)) continue;
      fprintf(stderr, "berth-runtime %s: unknown option \"%s\"\n", cmd, argv[i]); return 2;
    }
    o.id = argv[need_id(argc, i, cmd)];
    /* socket activation: descriptors passed to us with LISTEN_FDS go through, as with runc */
    if (getenv("LISTEN_FDS") && atoi(getenv("LISTEN_FDS")) > o.preserve_fds) o.preserve_fds = atoi(getenv("LISTEN_FDS"));
    if (seal_self(argv) < 0) return finish(-1);
    o.attached_run = run && !o.detach;
    int r = container_create(&o);
    if (r < 0 || !run || o.detach == 0) return finish(r);
    if (container_start(o.id) < 0) { wrap("run container \"%s\"", o.id); err_report(); container_delete(o.id, 1); return 1; }
    return 0;
  }
  if (!strcmp(cmd, "exec")) {
    struct exec_opts o; memset(&o, 0, sizeof o);
    char **env = calloc(argc, sizeof *env);
    for (; i < argc && argv[i][0] == '-'; i++) {
      if (opt_val(argv, argc, &i, "--env", "-e", &v)) { env[o.nenv++] = (char *)v; continue; }
      if (opt_val(argv, argc, &i, "--cwd", NULL, &o.cwd) || opt_val(argv, argc, &i, "--user", "-u", &o.user) ||
          opt_val(argv, argc, &i, "--process", "-p", &o.process_file) || opt_val(argv, argc, &i, "--pid-file", NULL, &o.pid_file) ||
          opt_val(argv, argc, &i, "--console-socket", NULL, &o.console_socket)) continue;
      if (opt_val(argv, argc, &i, "--preserve-fds", NULL, &v)) { o.preserve_fds = atoi(v); continue; }
      if (opt_flag(argv[i], "--tty", "-t")) { o.tty = 1; continue; }
      if (opt_flag(argv[i], "--detach", "-d")) { o.detach = 1; continue; }
      if (!strcmp(argv[i], "--")) { i++; break; }
      fprintf(stderr, "berth-runtime exec: unknown option \"%s\"\n", argv[i]); return 2;
    }
    o.env = env;
    o.id = argv[need_id(argc, i, cmd)];
    i++;
    if (i < argc && !strcmp(argv[i], "--")) i++;
    o.args = argv + i; o.nargs = argc - i;
    if (seal_self(argv) < 0) return finish(-1);
    return finish(container_exec(&o));
  }
  if (!strcmp(cmd, "list")) {
    const char *format = "table";
    for (; i < argc && argv[i][0] == '-'; i++) {
      if (opt_val(argv, argc, &i, "--format", "-f", &format)) continue;
      if (opt_flag(argv[i], "--quiet", "-q")) continue;
    }
    return finish(cmd_list(format));
  }
  const char *format = NULL;
  int force = 0, all = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (opt_flag(argv[i], "--force", !strcmp(cmd, "delete") ? "-f" : NULL)) { force = 1; continue; }
    if (opt_val(argv, argc, &i, "--format", "-f", &format)) continue;
    if (opt_flag(argv[i], "--all", "-a")) { all = 1; continue; }
    fprintf(stderr, "berth-runtime %s: unknown option \"%s\"\n", cmd, argv[i]); return 2;
  }
  const char *id = argv[need_id(argc, i, cmd)];
  if (!strcmp(cmd, "start")) return finish(container_start(id));
  if (!strcmp(cmd, "delete")) return finish(container_delete(id, force));
  if (!strcmp(cmd, "pause")) return finish(cmd_pause(id, 1));
  if (!strcmp(cmd, "resume")) return finish(cmd_pause(id, 0));
  if (!strcmp(cmd, "ps")) return finish(cmd_ps(id, format));
  if (!strcmp(cmd, "kill")) {
    int sig = i + 1 < argc ? parse_signal(argv[i + 1]) : SIGTERM;
    if (sig < 0) { failx("kill: unknown signal \"%s\"", argv[i + 1]); return finish(-1); }
    return finish(container_kill(id, sig, all));
  }
  if (!strcmp(cmd, "state") || !strcmp(cmd, "stats")) {
    struct state st;
    if (state_load(id, &st) < 0) return finish(-1);
    if (!strcmp(cmd, "state")) state_print(stdout, &st);
    else if (st.cgroup[0]) cg_stats(st.cgroup, stdout);
    json_free(st.annotations);
    return 0;
  }
  fprintf(stderr, "berth-runtime: unknown command \"%s\"\n%s", cmd, usage);
  return 2;
}
