/* berth-runtime: shared declarations. Each concern lives in its own .c file; main.c parses args. */
#ifndef BERTH_H
#define BERTH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Paths are built with snprintf into PATH_MAX-sized buffers on purpose; a path too long for
 * them fails at open() with a clear error, so GCC's truncation heuristics are noise here. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define BERTH_VERSION "0.1.0"
#define BERTH_SPEC_VERSION "1.2.0"

/* ---- errors.c: one error record per process; callers prefix context on the way up ---- */
int fail(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_text(void);   /* full chain with errno text last */
int err_errno(void);
void err_set_raw(const char *msg, int errnum); /* adopt an error received from another process */
const char *err_message(void); /* chain without errno text */
void err_report(void);          /* print once on stderr, and as a JSON line on the log when json */
void log_setup(const char *path, int json);
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- json.c: bounded parser for config.json and state files ---- */
enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jv {
  enum jtype type;
  char *key;          /* set when this value is a member of an object */
  char *str;          /* J_STR: decoded text; J_NUM: raw text */
  int boolean;
  struct jv *child;   /* first element/member */
  struct jv *next;    /* next sibling */
};
struct jv *json_parse(const char *text, size_t len); /* NULL + error record on failure */
struct jv *json_load(const char *path);
void json_free(struct jv *v);
struct jv *jget(const struct jv *obj, const char *key);
struct jv *jpath(const struct jv *root, const char *dotted); /* "process.user.uid" */
const char *jstr(const struct jv *v, const char *def);
long long jint(const struct jv *v, long long def);
int jbool(const struct jv *v, int def);
size_t jlen(const struct jv *v);
void json_write(FILE *f, const struct jv *v);
void json_write_str(FILE *f, const char *s);
void json_write_strn(FILE *f, const char *s, size_t n);

/* ---- hostbatch.c: `host-batch`, host-side steps of many containers in one process ---- */
int cmd_host_batch(void);

/* ---- state.c ---- */
struct state {
  char id[256];
  char dir[4096];       /* <root>/<id> */
  char bundle[4096];
  pid_t pid;            /* container init, host pid */
  unsigned long long start_time; /* /proc/<pid>/stat field 22, guards against pid reuse */
  pid_t monitor;
  char cgroup[4096];    /* cgroup path relative to the hierarchy roots */
  char created[64];
  char started[64];
  int have_exit, exit_code, exit_signal;
  char finished[64];
  struct jv *annotations;
};
extern char g_root[4096];
int valid_id(const char *id);
int state_load(const char *id, struct state *st);
int state_save(const struct state *st);
const char *state_status(const struct state *st);
void state_print(FILE *f, const struct state *st);
int write_exit(const char *dir, int code, int sig);
int write_file_atomic(const char *path, const char *data, size_t len);
int write_file(const char *path, const char *data);
int read_file(const char *path, char *buf, size_t size);
unsigned long long proc_start_time(pid_t pid);
void now_rfc3339(char *buf, size_t size);
int rm_rf(const char *path);

/* ---- namespaces.c ---- */
struct ns_plan {
  int new_flags;        /* CLONE_NEW* to create */
  int join_fd[8];       /* fds of namespaces to join, -1 if none */
  int join_type[8];
  int njoin;
  int new_pid, join_pid_fd;
  int userns;           /* new user namespace: the parent writes the id maps */
};
int ns_write_maps(const struct jv *cfg, pid_t pid);
int ns_plan(const struct jv *cfg, struct ns_plan *p);
int ns_enter_pid(struct ns_plan *p);          /* before cloning: join a pid namespace */
int ns_apply(struct ns_plan *p);              /* in the child: join, then unshare */
int ns_join_pid_of(pid_t pid, int *is_newpid); /* exec: join every namespace of pid */
pid_t clone_child(int flags);

/* ---- mounts.c ---- */
int rootfs_prepare(const struct jv *cfg, const char *bundle, int no_pivot, int cgv2, const char *cgpath);
int rootfs_pivot(const struct jv *cfg, int no_pivot);
int rootfs_finish(const struct jv *cfg);
int open_in_root(int rootfd, const char *path, int create, int is_dir);

/* ---- cgroups.c ---- */
int cg_version(void);  /* 1 or 2 */
int cg_create(const struct jv *cfg, const char *path);
int cg_join(const char *path, pid_t pid);
int cg_destroy(const char *path);
int cg_freeze(const char *path, int freeze);
int cg_frozen(const char *path);
int cg_pids(const char *path, pid_t *out, int max);
int cg_stats(const char *path, FILE *f);
int cg_kill_all(const char *path, int sig);
int cg_path_for(const struct jv *cfg, const char *id, char *out, size_t size);

/* ---- devices_bpf.c: cgroup v2 device rules ---- */
int devices_bpf_attach(const char *cgdir, const struct jv *devs);

/* ---- caps.c ---- */
int caps_parse(const struct jv *list, uint64_t *mask);
int caps_drop_bounding(const struct jv *caps);
int caps_apply(const struct jv *caps);
int cap_last(void);

/* ---- seccomp.c ---- */
int seccomp_install(const struct jv *cfg);
int seccomp_check(const struct jv *cfg);

/* ---- process.c ---- */
struct proc_opts {
  const struct jv *cfg;     /* whole config */
  const struct jv *process; /* process object */
  char **extra_env; int n_extra_env;
  char **args_override; int n_args;
  const char *cwd_override;
  const char *user_override;
  int preserve_fds;
  int init;                 /* run.berth.init */
  int start_fd;             /* exec.fifo O_PATH fd, -1 for none */
};
int process_prepare(struct proc_opts *o);   /* validate executable etc. before "created" */
void process_exec(struct proc_opts *o) __attribute__((noreturn));
int apply_rlimits(const struct jv *process);
int set_user(const struct jv *process, const char *override);
int close_fds_from(int first);
void close_other_fds(int from, const int *keep, int nkeep);

/* ---- terminal.c ---- */
int pty_open(int *master, int *slave);
int send_fd(int sock, int fd);
int recv_fd(int sock);
int console_connect(const char *path);
int pty_relay(int master, pid_t child); /* attached -t: copy stdin->master, master->stdout; returns when master closes */
int slave_become_tty(int slave);

/* ---- hooks.c ---- */
int hooks_run(const struct jv *cfg, const char *kind, const struct state *st, const char *status);

/* ---- monitor.c ---- */
struct log_cfg { char path[4096]; long long max_size; int max_file; };
void log_cfg_from(const struct jv *cfg, struct log_cfg *lc);
/* tty_sock >= 0: a socket on which the container's init sends its pty master (process.terminal
 * without --console-socket); the monitor then logs the terminal's output as stdout. */
void monitor_loop(int out_fd, int err_fd, int tty_sock, pid_t child, const struct log_cfg *lc, const char *statedir) __attribute__((noreturn));
int wait_child_forwarding(pid_t child); /* attached mode: forward signals, return raw wait status */
void forward_signals(pid_t child);
int status_to_code(int status);

/* ---- init.c ---- */
void init_run(pid_t child) __attribute__((noreturn)); /* PID 1 reaper/forwarder */

/* ---- container.c: the create/run machinery ---- */
struct create_opts {
  const char *id, *bundle, *pid_file, *console_socket;
  int detach, no_pivot, attached_run, preserve_fds;
};
int container_create(struct create_opts *o);
int container_start(const char *id);
int container_delete(const char *id, int force);
int container_kill(const char *id, int sig, int all);
struct exec_opts {
  const char *id, *process_file, *cwd, *user, *pid_file, *console_socket;
  char **env; int nenv;
  char **args; int nargs;
  int tty, detach, preserve_fds;
};
int container_exec(struct exec_opts *o);
int parse_signal(const char *s);
int seal_self(char **argv); /* re-exec from a sealed memfd copy (CVE-2019-5736 class) */
char *base64_decode(const char *in, size_t *outlen);

/* sync messages between child and parent (SOCK_SEQPACKET, one message per record) */
enum { MSG_PID = 1, MSG_READY, MSG_ERROR, MSG_HOOKS, MSG_GO, MSG_PTY, MSG_USERNS };
struct sync_msg { int type; int pid; int err; char text[1500]; };
int sync_send(int fd, int type, int pid);
int sync_send_error(int fd);
#endif
