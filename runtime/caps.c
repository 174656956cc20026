/* Capabilities: bounding set by PR_CAPBSET_DROP, effective/permitted/inheritable by capset,
 * ambient by PR_CAP_AMBIENT. Names follow the OCI spec ("CAP_NET_ADMIN"). */
#include "berth.h"
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <strings.h>

static const char *names[] = {
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int cap_last(void) {
  static int last = -1;
  if (last < 0) {
    char buf[32];
    if (read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof buf) > 0) last = atoi(buf);
    else last = 40;
    if (last > 63) last = 63;
  }
  return last;
}

int caps_parse(const struct jv *list, uint64_t *mask) {
  *mask = 0;
  for (struct jv *c = list ? list->child : NULL; c; c = c->next) {
    const char *s = jstr(c, "");
    const char *n = strncasecmp(s, "CAP_", 4) ? s : s + 4;
    int found = -1;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
      if (!strcasecmp(n, names[i])) found = (int)i;
    if (found < 0) return failx("unknown capability \"%s\"", s);
    if (found <= cap_last()) *mask |= 1ULL << found; /* unknown to this kernel: ignored, like runc */
  }
  return 0;
}

int caps_drop_bounding(const struct jv *caps) {
  if (!caps) return 0;
  uint64_t keep;
  if (caps_parse(jget(caps, "bounding"), &keep) < 0) return -1;
  for (int i = 0; i <= cap_last(); i++)
    if (!(keep & (1ULL << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
      return fail(errno, "drop capability %d from the bounding set", i);
  return 0;
}

int caps_apply(const struct jv *caps) {
  uint64_t eff = 0, perm = 0, inh = 0, amb = 0;
  if (caps && (caps_parse(jget(caps, "effective"), &eff) < 0 || caps_parse(jget(caps, "permitted"), &perm) < 0 ||
               caps_parse(jget(caps, "inheritable"), &inh) < 0 || caps_parse(jget(caps, "ambient"), &amb) < 0))
    return -1;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(eff >> (32 * i));
    data[i].permitted = (uint32_t)(perm >> (32 * i));
    data[i].inheritable = (uint32_t)(inh >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return fail(errno, "capset");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int i = 0; i <= cap_last(); i++)
    if ((amb & (1ULL << i)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
      log_msg("warning", "cannot raise ambient capability CAP_%s (not in permitted and inheritable)", names[i]); /* runc warns too */
  return 0;
}
