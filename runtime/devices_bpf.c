/* cgroup v2 device rules: v2 has no devices.allow file, so linux.resources.devices is compiled
 * into a BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the container's cgroup. Rules are
 * checked last to first and the first match decides, which is what applying them in order
 * means; no match allows (a new cgroup allows everything, like v1). */
#include "berth.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_RULES 256
#define MAX_INSNS (8 + MAX_RULES * 8)

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i; memset(&i, 0, sizeof i);
  i.code = code; i.dst_reg = dst; i.src_reg = src; i.off = off; i.imm = imm;
  return i;
}

static int access_bits(const char *s) {
  int a = 0;
  for (; *s; s++) a |= *s == 'r' ? BPF_DEVCG_ACC_READ : *s == 'w' ? BPF_DEVCG_ACC_WRITE : *s == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  return a;
}

/* builds the program; returns the instruction count */
int devices_bpf_build(const struct jv *devs, struct bpf_insn *out, int max) {
  const struct jv *rules[MAX_RULES]; int nr = 0;
  for (struct jv *d = devs ? devs->child : NULL; d && nr < MAX_RULES; d = d->next) rules[nr++] = d;
  int n = 0;
  if (max < 8 + nr * 8) return failx("too many device rules");
  out[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);        /* r2 = access_type */
  out[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xFFFF);  /* r2 = device type */
  out[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
  out[n++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);      /* r3 = requested access */
  out[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);         /* r4 = major */
  out[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);         /* r5 = minor */
  for (int i = nr - 1; i >= 0; i--) {
    const struct jv *d = rules[i];
    const char *type = jstr(jget(d, "type"), "a");
    int allow = jbool(jget(d, "allow"), 0);
    int acc = access_bits(jstr(jget(d, "access"), "rwm"));
    long long major = jget(d, "major") ? jint(jget(d, "major"), -1) : -1;
    long long minor = jget(d, "minor") ? jint(jget(d, "minor"), -1) : -1;
    int start = n, jumps[4], nj = 0;
    if (type[0] == 'c' || type[0] == 'b') {
      jumps[nj++] = n;
      out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, type[0] == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
    }
    out[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
    if (allow) {
      /* an allow rule decides only when it covers every requested access */
      out[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, ~acc);
      jumps[nj++] = n;
      out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, 0);
    } else {
      out[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, acc);
      jumps[nj++] = n;
      out[n++] = insn(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 0, 0);
    }
    if (major >= 0) { jumps[nj++] = n; out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)major); }
    if (minor >= 0) { jumps[nj++] = n; out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)minor); }
    out[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, allow ? 1 : 0);
    out[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (int j = 0; j < nj; j++) out[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
    (void)start;
  }
  out[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
  out[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return n;
}

int devices_bpf_attach(const char *cgdir, const struct jv *devs) {
  static struct bpf_insn prog[MAX_INSNS];
  int n = devices_bpf_build(devs, prog, MAX_INSNS);
  if (n < 0) return -1;
  static char verifier_log[4096];
  union bpf_attr attr; memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = (uint32_t)n;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.license = (uint64_t)(uintptr_t)"Apache-2.0";
  /* Load without a verifier log first: a log longer than the buffer fails the load with
   * ENOSPC even for a valid program. Only a rejected program is loaded again for its log. */
  int pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (pfd < 0) {
    int e = errno;
    attr.log_buf = (uint64_t)(uintptr_t)verifier_log;
    attr.log_size = sizeof verifier_log;
    attr.log_level = 1;
    verifier_log[0] = 0;
    if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr) < 0 && verifier_log[0])
      return fail(e, "load device filter program (verifier: %.200s)", verifier_log);
    return fail(e, "load device filter program");
  }
  int cfd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cfd < 0) { int e = errno; close(pfd); return fail(e, "open \"%s\"", cgdir); }
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cfd;
  attr.attach_bpf_fd = (uint32_t)pfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr);
  int e = errno;
  close(cfd); close(pfd);
  if (r < 0) return fail(e, "attach device filter to \"%s\"", cgdir);
  return 0;
}
