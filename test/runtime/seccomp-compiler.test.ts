// The BPF compiler must make the kernel decide exactly what the OCI profile says: each compiled
// program is run in a BPF interpreter against synthetic seccomp_data and compared with a direct
// reading of the profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUDIT_ARCH, SECCOMP_RET, X32_SYSCALL_BIT, actionValue, compileSeccompProgram, defaultSeccompProfile, syscallTable,
  type SyscallArch,
} from '../../src/runtime/seccomp/index.js';
import { defaultCapabilities } from '../../src/runtime/index.js';
import type { OciSeccomp, OciSeccompArg } from '../../src/runtime/oci-types.js';
import { runSeccompFilter, validateSeccompProgram } from './bpf-interpreter.js';

const EPERM = (SECCOMP_RET.ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET.ERRNO | 38) >>> 0;
const ALLOW = SECCOMP_RET.ALLOW;

function nr(arch: SyscallArch, name: string): number {
  const value = syscallTable(arch).get(name);
  assert.notEqual(value, undefined, `no syscall ${name} on ${arch}`);
  return (value as number) + (arch === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0);
}

/** What the profile says, read directly (the reference the compiled program must agree with). */
function expected(profile: OciSeccomp, arch: SyscallArch, number: number, args: bigint[]): number {
  const table = syscallTable(arch);
  const offset = arch === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0;
  const matches = (cond: OciSeccompArg): boolean => {
    const a = args[cond.index] ?? 0n;
    const v = BigInt(cond.value);
    switch (cond.op) {
      case 'SCMP_CMP_EQ': return a === v;
      case 'SCMP_CMP_NE': return a !== v;
      case 'SCMP_CMP_LT': return a < v;
      case 'SCMP_CMP_LE': return a <= v;
      case 'SCMP_CMP_GT': return a > v;
      case 'SCMP_CMP_GE': return a >= v;
      case 'SCMP_CMP_MASKED_EQ': return (a & v) === BigInt(cond.valueTwo ?? 0);
    }
  };
  let plain: number | undefined;
  for (const entry of profile.syscalls ?? []) {
    if (!entry.names.some((name) => table.get(name) !== undefined && table.get(name) as number + offset === number)) continue;
    const value = actionValue(entry.action, entry.errnoRet);
    const conds = entry.args ?? [];
    if (conds.length === 0) {
      plain ??= value;
      continue;
    }
    const repeated = new Set(conds.map((c) => c.index)).size !== conds.length;
    if (repeated ? conds.some(matches) : conds.every(matches)) return value;
  }
  return plain ?? actionValue(profile.defaultAction, profile.defaultErrnoRet);
}

function decide(profile: OciSeccomp, arch: SyscallArch, name: string, args: (number | bigint)[] = [], hostArch: 'x64' | 'arm64' = 'x64'): number {
  const program = compileSeccompProgram(profile, { arch: hostArch });
  const audit = arch === 'SCMP_ARCH_X86' ? AUDIT_ARCH.I386 : arch === 'SCMP_ARCH_AARCH64' ? AUDIT_ARCH.AARCH64 : AUDIT_ARCH.X86_64;
  return runSeccompFilter(program, { nr: nr(arch, name), arch: audit, args });
}

const profile = defaultSeccompProfile(defaultCapabilities, 'x64');

test('default profile: ordinary syscalls allowed, dangerous ones EPERM, on x86_64, i386 and x32', () => {
  const program = compileSeccompProgram(profile, { arch: 'x64' });
  validateSeccompProgram(program);
  for (const arch of ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] as const) {
    const audit = arch === 'SCMP_ARCH_X86' ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64;
    const run = (name: string, args: (number | bigint)[] = []): number => runSeccompFilter(program, { nr: nr(arch, name), arch: audit, args });
    for (const name of ['read', 'write', 'execve', 'exit_group', 'openat', 'futex', 'getpid', 'chroot', 'setuid']) assert.equal(run(name), ALLOW, `${arch} ${name}`);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'init_module', 'finit_module', 'delete_module', 'ptrace', 'reboot', 'kexec_load', 'swapon', 'bpf', 'keyctl', 'add_key']) {
      assert.equal(run(name), EPERM, `${arch} ${name}`);
    }
  }
});

test('default profile: clone without namespace flags, clone3 ENOSYS, personality and socket argument rules', () => {
  const x = 'SCMP_ARCH_X86_64';
  assert.equal(decide(profile, x, 'clone', [0x3d0f00]), ALLOW); // pthread_create's flags
  assert.equal(decide(profile, x, 'clone', [0x01200011]), ALLOW); // fork()
  assert.equal(decide(profile, x, 'clone', [0x20000 | 17]), EPERM); // CLONE_NEWNS
  assert.equal(decide(profile, x, 'clone', [0x10000000]), EPERM); // CLONE_NEWUSER
  assert.equal(decide(profile, x, 'clone', [0x40000000n | (1n << 40n)]), EPERM); // CLONE_NEWNET, junk in the high word
  assert.equal(decide(profile, x, 'clone3'), ENOSYS);
  assert.equal(decide(profile, x, 'personality', [0]), ALLOW);
  assert.equal(decide(profile, x, 'personality', [0xffffffff]), ALLOW);
  assert.equal(decide(profile, x, 'personality', [0x0400000]), EPERM); // ADDR_NO_RANDOMIZE
  assert.equal(decide(profile, x, 'socket', [2, 1, 0]), ALLOW); // AF_INET
  assert.equal(decide(profile, x, 'socket', [40, 1, 0]), EPERM); // AF_VSOCK
  assert.equal(decide(profile, x, 'socket', [40n + (1n << 32n)]), ALLOW); // NE compares all 64 bits
  assert.equal(decide(profile, x, 'arch_prctl'), ALLOW);
});

test('capabilities widen the default profile: CAP_SYS_ADMIN mount/unshare/clone, CAP_SYS_PTRACE ptrace, CAP_SYS_MODULE modules', () => {
  const admin = defaultSeccompProfile([...defaultCapabilities, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE'], 'x64');
  const x = 'SCMP_ARCH_X86_64';
  for (const name of ['mount', 'unshare', 'setns', 'ptrace', 'init_module', 'clone3']) assert.equal(decide(admin, x, name), ALLOW, name);
  assert.equal(decide(admin, x, 'clone', [0x20000]), ALLOW);
  assert.equal(decide(admin, x, 'reboot'), EPERM);
  const noChroot = defaultSeccompProfile(defaultCapabilities.filter((c) => c !== 'CAP_SYS_CHROOT'), 'x64');
  assert.equal(decide(noChroot, x, 'chroot'), EPERM);
});

test('foreign architectures are killed; aarch64 hosts get their own table', () => {
  const program = compileSeccompProgram(profile, { arch: 'x64' });
  assert.equal(runSeccompFilter(program, { nr: 0, arch: AUDIT_ARCH.AARCH64 }), SECCOMP_RET.KILL_PROCESS);
  const noX32 = compileSeccompProgram({ ...profile, architectures: ['SCMP_ARCH_X86_64'] }, { arch: 'x64' });
  assert.equal(runSeccompFilter(noX32, { nr: X32_SYSCALL_BIT | 0, arch: AUDIT_ARCH.X86_64 }), SECCOMP_RET.KILL_PROCESS);
  assert.equal(runSeccompFilter(noX32, { nr: 0, arch: AUDIT_ARCH.I386 }), SECCOMP_RET.KILL_PROCESS);
  const arm = defaultSeccompProfile(defaultCapabilities, 'arm64');
  const armProgram = compileSeccompProgram(arm, { arch: 'arm64' });
  validateSeccompProgram(armProgram);
  const a = 'SCMP_ARCH_AARCH64';
  assert.equal(runSeccompFilter(armProgram, { nr: nr(a, 'read'), arch: AUDIT_ARCH.AARCH64 }), ALLOW);
  assert.equal(runSeccompFilter(armProgram, { nr: nr(a, 'mount'), arch: AUDIT_ARCH.AARCH64 }), EPERM);
  assert.equal(runSeccompFilter(armProgram, { nr: nr(a, 'clone'), arch: AUDIT_ARCH.AARCH64, args: [0x20000] }), EPERM);
  // 32-bit ARM is listed but has no table: everything gets the default action, never ALLOW.
  assert.equal(runSeccompFilter(armProgram, { nr: 3, arch: AUDIT_ARCH.ARM }), EPERM);
  assert.equal(runSeccompFilter(armProgram, { nr: 0, arch: AUDIT_ARCH.X86_64 }), SECCOMP_RET.KILL_PROCESS);
});

test('compiled default profile agrees with the profile for every syscall number of every ABI', () => {
  const program = compileSeccompProgram(profile, { arch: 'x64' });
  const argSamples: bigint[][] = [[], [0n], [40n], [0x20000n], [8n], [0xffffffffn], [0x3d0f00n]];
  let checked = 0;
  for (const arch of ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] as const) {
    const audit = arch === 'SCMP_ARCH_X86' ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64;
    const base = arch === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0;
    for (let n = 0; n < 600; n++) {
      for (const args of argSamples) {
        const got = runSeccompFilter(program, { nr: base + n, arch: audit, args });
        assert.equal(got, expected(profile, arch, base + n, args), `${arch} nr ${n} args ${args}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 10_000);
});

test('argument comparisons: all operators on 64-bit values split into high and low words', () => {
  const values = [0n, 1n, 41n, 42n, 43n, 0xffffffffn, 0x100000000n, 0x10000002an, 0x20000002an, (1n << 63n) + 42n, (1n << 64n) - 1n];
  const ops = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE'] as const;
  for (const op of ops) {
    for (const ruleValue of [42, 0x10000002a]) {
      const custom: OciSeccomp = {
        defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 3, value: ruleValue, op }] }],
      };
      for (const v of values) {
        const args = [0n, 0n, 0n, v];
        assert.equal(decide(custom, 'SCMP_ARCH_X86_64', 'kill', args), expected(custom, 'SCMP_ARCH_X86_64', nr('SCMP_ARCH_X86_64', 'kill'), args), `${op} ${ruleValue} vs ${v}`);
      }
    }
  }
  const masked: OciSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0xff00000000ff, valueTwo: 0x120000000054, op: 'SCMP_CMP_MASKED_EQ' }] }],
  };
  assert.equal(decide(masked, 'SCMP_ARCH_X86_64', 'ioctl', [0, 0x1334_5678_9a54]), EPERM);
  assert.equal(decide(masked, 'SCMP_ARCH_X86_64', 'ioctl', [0, 0x12ab_cdef_0154]), ALLOW);
  // Two conditions on different arguments must both hold; on the same argument either may (runc's rule).
  const both: OciSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['tkill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  assert.equal(decide(both, 'SCMP_ARCH_X86_64', 'kill', [1, 9]), ALLOW);
  assert.equal(decide(both, 'SCMP_ARCH_X86_64', 'kill', [1, 15]), EPERM);
  assert.equal(decide(both, 'SCMP_ARCH_X86_64', 'tkill', [2]), ALLOW);
  assert.equal(decide(both, 'SCMP_ARCH_X86_64', 'tkill', [3]), EPERM);
});

test('every action maps to its kernel return value', () => {
  const custom: OciSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mount'], action: 'SCMP_ACT_KILL' },
      { names: ['umount2'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['unshare'], action: 'SCMP_ACT_TRAP' },
      { names: ['setns'], action: 'SCMP_ACT_LOG' },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
      { names: ['reboot'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 },
      { names: ['not_a_syscall'], action: 'SCMP_ACT_KILL' },
    ],
  };
  const x = 'SCMP_ARCH_X86_64';
  assert.equal(decide(custom, x, 'mount'), SECCOMP_RET.KILL_THREAD);
  assert.equal(decide(custom, x, 'umount2'), SECCOMP_RET.KILL_PROCESS);
  assert.equal(decide(custom, x, 'unshare'), SECCOMP_RET.TRAP);
  assert.equal(decide(custom, x, 'setns'), SECCOMP_RET.LOG);
  assert.equal(decide(custom, x, 'ptrace'), (SECCOMP_RET.TRACE | 7) >>> 0);
  assert.equal(decide(custom, x, 'reboot'), (SECCOMP_RET.ERRNO | 22) >>> 0);
  assert.equal(decide(custom, x, 'read'), ALLOW);
  assert.throws(() => compileSeccompProgram({ defaultAction: 'SCMP_ACT_NOPE' as 'SCMP_ACT_ALLOW' }, { arch: 'x64' }), /unknown seccomp action "SCMP_ACT_NOPE"/);
});

test('long programs: far jumps stay correct when blocks are thousands of instructions apart', () => {
  // Every syscall gets an argument rule, so dispatch leaves jump far past the 255 limit of jt/jf.
  const names = [...syscallTable('SCMP_ARCH_X86_64').keys()].slice(0, 300);
  const custom: OciSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: names.map((name, i) => ({ names: [name], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: i % 6, value: i, op: 'SCMP_CMP_EQ' as const }] })),
  };
  const program = compileSeccompProgram(custom, { arch: 'x64' });
  validateSeccompProgram(program);
  assert.ok(program.length > 1000, `program has ${program.length} instructions`);
  for (const [i, name] of names.entries()) {
    const args = [0, 0, 0, 0, 0, 0];
    assert.equal(decide(custom, 'SCMP_ARCH_X86_64', name, args), i === 0 ? ALLOW : EPERM, name);
    args[i % 6] = i;
    assert.equal(decide(custom, 'SCMP_ARCH_X86_64', name, args), ALLOW, name);
  }
  const huge: OciSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: Array.from({ length: 2000 }, (_, i) => ({ names: ['kill'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' as const }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' as const }] })),
  };
  assert.throws(() => compileSeccompProgram(huge, { arch: 'x64' }), /the kernel accepts at most 4096/);
});
