/**
 * berth's default seccomp policy, with the same semantics as Docker's default profile: deny with
 * EPERM by default, allow the ordinary system calls, and allow the dangerous ones (mount,
 * unshare, ptrace, module loading, namespace-creating clone flags...) only when the container
 * holds the capability that makes them meaningful. The rules are resolved against the
 * container's capabilities and the host architecture here, so config.json carries a plain OCI
 * `linux.seccomp` that runc, crun and berth-runtime all read the same way.
 */
import type { OciSeccomp, OciSeccompArg, OciSeccompAction, OciSeccompSyscall } from '../oci-types.js';

/** Architecture names as Node spells them (process.arch) that berth knows. */
export type HostArch = 'x64' | 'arm64' | 'ia32' | 'arm';

interface ProfileRule {
  names: string[];
  action?: OciSeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
  /** Rule applies only when all these hold. */
  includes?: { caps?: string[]; arches?: HostArch[] };
  /** Rule is dropped when any of these holds. */
  excludes?: { caps?: string[]; arches?: HostArch[] };
}

const EPERM = 1;
const ENOSYS = 38;

/** Namespace-creating clone flags: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const cloneNamespaceFlags = 0x7e020000;

/** System calls every container may make. */
const baseAllowList = [
  'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset', 'chdir', 'chmod',
  'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
  'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range',
  'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait',
  'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit', 'exit_group',
  'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat',
  'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock',
  'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate',
  'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake', 'futimesat',
  'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32',
  'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority',
  'getrandom', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage',
  'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid', 'getuid32', 'getxattr',
  'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'ioctl', 'io_destroy',
  'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'ipc',
  'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr',
  'link', 'linkat', 'listen', 'listxattr', 'llistxattr', '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat',
  'lstat64', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat',
  'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect', 'mq_getsetattr', 'mq_notify',
  'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'mremap',
  'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap', 'nanosleep', 'newfstatat',
  '_newselect', 'open', 'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc',
  'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64',
  'process_mrelease', 'pselect6', 'pselect6_time64', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead',
  'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'remap_file_pages',
  'removexattr', 'rename', 'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction',
  'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait',
  'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr', 'sched_getparam',
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval',
  'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler',
  'sched_yield', 'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send',
  'sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32',
  'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setitimer', 'setpgid', 'setpriority', 'setregid', 'setregid32',
  'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list',
  'setsid', 'setsockopt', 'set_thread_area', 'set_tid_address', 'setuid', 'setuid32', 'setxattr', 'shmat', 'shmctl',
  'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn', 'socketcall',
  'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun',
  'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create', 'timerfd_gettime',
  'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times', 'tkill', 'truncate', 'truncate64', 'ugetrlimit',
  'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vfork', 'vmsplice',
  'wait4', 'waitid', 'waitpid', 'write', 'writev',
];

const eq = (index: number, value: number): OciSeccompArg => ({ index, value, op: 'SCMP_CMP_EQ' });

/** The profile as data: order matters only for readability, rules never overlap. */
const profileRules: ProfileRule[] = [
  { names: baseAllowList },
  // AF_VSOCK (40) would let a container reach the hypervisor's sockets; every other family is fine.
  { names: ['socket'], args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
  // personality: only the harmless personas (PER_LINUX, PER_LINUX32, UNAME26 variants, query).
  { names: ['personality'], args: [eq(0, 0x0)] },
  { names: ['personality'], args: [eq(0, 0x8)] },
  { names: ['personality'], args: [eq(0, 0x20000)] },
  { names: ['personality'], args: [eq(0, 0x20008)] },
  { names: ['personality'], args: [eq(0, 0xffffffff)] },
  { names: ['arch_prctl'], includes: { arches: ['x64'] } },
  { names: ['modify_ldt'], includes: { arches: ['x64', 'ia32'] } },
  { names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], includes: { arches: ['arm', 'arm64'] } },
  { names: ['open_by_handle_at'], includes: { caps: ['CAP_DAC_READ_SEARCH'] } },
  {
    names: ['bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount',
      'mount_setattr', 'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
      'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare'],
    includes: { caps: ['CAP_SYS_ADMIN'] },
  },
  // Without CAP_SYS_ADMIN, clone may not create namespaces (threads and fork stay possible).
  {
    names: ['clone'],
    args: [{ index: 0, value: cloneNamespaceFlags, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'] },
  },
  // clone3 passes flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone.
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  { names: ['reboot'], includes: { caps: ['CAP_SYS_BOOT'] } },
  { names: ['chroot'], includes: { caps: ['CAP_SYS_CHROOT'] } },
  { names: ['delete_module', 'init_module', 'finit_module'], includes: { caps: ['CAP_SYS_MODULE'] } },
  { names: ['acct'], includes: { caps: ['CAP_SYS_PACCT'] } },
  { names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'], includes: { caps: ['CAP_SYS_PTRACE'] } },
  { names: ['iopl', 'ioperm'], includes: { caps: ['CAP_SYS_RAWIO'] } },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], includes: { caps: ['CAP_SYS_TIME'] } },
  { names: ['vhangup'], includes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], includes: { caps: ['CAP_SYS_NICE'] } },
  { names: ['syslog'], includes: { caps: ['CAP_SYSLOG'] } },
  { names: ['bpf'], includes: { caps: ['CAP_BPF'] } },
  { names: ['perf_event_open'], includes: { caps: ['CAP_PERFMON'] } },
];

/** OCI architecture names per host: the native one plus the compat ABIs a process could switch to. */
export function seccompArchitectures(arch: HostArch): string[] {
  switch (arch) {
    case 'x64': return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'ia32': return ['SCMP_ARCH_X86'];
    case 'arm64': return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm': return ['SCMP_ARCH_ARM'];
  }
}

function applies(rule: ProfileRule, capabilities: ReadonlySet<string>, arch: HostArch): boolean {
  const inc = rule.includes;
  if (inc?.arches && !inc.arches.includes(arch)) return false;
  if (inc?.caps && !inc.caps.every((cap) => capabilities.has(cap))) return false;
  const exc = rule.excludes;
  if (exc?.arches && exc.arches.includes(arch)) return false;
  if (exc?.caps && exc.caps.some((cap) => capabilities.has(cap))) return false;
  return true;
}

/**
 * The default profile for a container with these (bounding) capabilities on this host
 * architecture, in OCI `linux.seccomp` form. Names are merged per rule shape so the JSON stays
 * short and stable.
 */
export function defaultSeccompProfile(capabilities: readonly string[], arch: HostArch = 'x64'): OciSeccomp {
  const caps = new Set(capabilities);
  const syscalls: OciSeccompSyscall[] = [];
  const allowNames = new Set<string>();
  for (const rule of profileRules) {
    if (!applies(rule, caps, arch)) continue;
    const action = rule.action ?? 'SCMP_ACT_ALLOW';
    if (action === 'SCMP_ACT_ALLOW' && !rule.args) {
      for (const name of rule.names) allowNames.add(name);
      continue;
    }
    const entry: OciSeccompSyscall = { names: [...rule.names], action };
    if (rule.errnoRet !== undefined) entry.errnoRet = rule.errnoRet;
    if (rule.args) entry.args = rule.args.map((arg) => ({ ...arg }));
    syscalls.push(entry);
  }
  // With CAP_SYS_ADMIN clone and clone3 are allowed outright; drop the narrower rules for them.
  const narrowed = syscalls.filter((entry) => !entry.names.every((name) => allowNames.has(name)));
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: seccompArchitectures(arch),
    syscalls: [{ names: [...allowNames].sort(), action: 'SCMP_ACT_ALLOW' }, ...narrowed],
  };
}
