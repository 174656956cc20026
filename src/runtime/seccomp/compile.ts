/**
 * compileSeccomp(): OCI `linux.seccomp` → a classic BPF program (struct sock_filter array) that
 * berth-runtime loads with seccomp(SECCOMP_SET_MODE_FILTER) without needing libseccomp.
 *
 * Layout: check seccomp_data.arch, then per architecture a binary search over the syscall
 * number, whose leaves return the action or jump to a block testing argument rules. Conditional
 * jumps only ever skip the next instruction; every longer jump is a BPF_JA, whose 32-bit offset
 * has no practical limit, so the 255-instruction jt/jf limit never bites whatever the profile.
 */
import { RuntimeError } from '../../errors.js';
import type { OciSeccomp, OciSeccompAction, OciSeccompArg } from '../oci-types.js';
import { AUDIT_ARCH, BPF, type BpfInstruction, encodeProgram, maxInstructions, SECCOMP_DATA, SECCOMP_RET, X32_SYSCALL_BIT } from './bpf.js';
import type { HostArch } from './default-profile.js';
import { type SyscallArch, syscallTable } from './syscall-tables.js';

type Label = number;
/** Where a branch goes: a label, or straight to a return value (emitted inline). */
type Target = { label: Label } | { ret: number };

/** A tiny assembler: forward labels, conditional branches of at most one skip, long jumps via JA. */
class Assembler {
  readonly code: (BpfInstruction & { label?: Label })[] = [];
  private readonly positions = new Map<Label, number>();
  private nextLabel = 0;

  label(): Label {
    return this.nextLabel++;
  }
  bind(label: Label): void {
    this.positions.set(label, this.code.length);
  }
  load(offset: number): void {
    this.code.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: offset });
  }
  and(mask: number): void {
    this.code.push({ code: BPF.ALU_AND_K, jt: 0, jf: 0, k: mask >>> 0 });
  }
  ret(value: number): void {
    this.code.push({ code: BPF.RET_K, jt: 0, jf: 0, k: value >>> 0 });
  }
  goto(target: Target): void {
    if ('ret' in target) this.ret(target.ret);
    else this.code.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: 0, label: target.label });
  }
  /** if (A op k) goto target; else fall through. */
  jumpIf(op: number, k: number, target: Target): void {
    this.code.push({ code: op, jt: 0, jf: 1, k: k >>> 0 });
    this.goto(target);
  }
  /** if !(A op k) goto target; else fall through. */
  jumpUnless(op: number, k: number, target: Target): void {
    this.code.push({ code: op, jt: 1, jf: 0, k: k >>> 0 });
    this.goto(target);
  }
  assemble(): BpfInstruction[] {
    return this.code.map((insn, pc) => {
      if (insn.label === undefined) return { code: insn.code, jt: insn.jt, jf: insn.jf, k: insn.k };
      const to = this.positions.get(insn.label);
      if (to === undefined || to <= pc) throw new Error(`seccomp compiler: unbound or backward label ${insn.label}`);
      return { code: BPF.JMP_JA, jt: 0, jf: 0, k: to - pc - 1 };
    });
  }
}

/** The kernel return value of an OCI action. */
export function actionValue(action: OciSeccompAction, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW': return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_ERRNO': return (SECCOMP_RET.ERRNO | ((errnoRet ?? 1) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_TRACE': return (SECCOMP_RET.TRACE | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG': return SECCOMP_RET.LOG;
    default: throw new RuntimeError(`unknown seccomp action "${String(action)}"`, {}, { hint: 'use one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG' });
  }
}

interface Rule {
  /** All must hold (AND). */
  conditions: OciSeccompArg[];
  value: number;
}

function splitWords(value: number): { hi: number; lo: number } {
  const big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
  return { hi: Number(big >> 32n), lo: Number(big & 0xffffffffn) };
}

/** Emits one 64-bit argument comparison; falls through when it holds, jumps to `fail` when not. */
function emitCondition(asm: Assembler, cond: OciSeccompArg, fail: Target): void {
  if (!Number.isInteger(cond.index) || cond.index < 0 || cond.index > 5) {
    throw new RuntimeError(`seccomp rule compares argument ${cond.index}; system calls have arguments 0 to 5`);
  }
  // Little-endian: the low word comes first in each u64 argument.
  const lo = SECCOMP_DATA.args + cond.index * 8;
  const hi = lo + 4;
  const v = splitWords(cond.value);
  const ok = asm.label();
  switch (cond.op) {
    case 'SCMP_CMP_EQ':
      asm.load(hi); asm.jumpUnless(BPF.JMP_JEQ_K, v.hi, fail);
      asm.load(lo); asm.jumpUnless(BPF.JMP_JEQ_K, v.lo, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.load(hi); asm.jumpUnless(BPF.JMP_JEQ_K, v.hi, { label: ok });
      asm.load(lo); asm.jumpIf(BPF.JMP_JEQ_K, v.lo, fail);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      asm.load(hi); asm.jumpIf(BPF.JMP_JGT_K, v.hi, { label: ok });
      asm.jumpUnless(BPF.JMP_JEQ_K, v.hi, fail);
      asm.load(lo); asm.jumpUnless(cond.op === 'SCMP_CMP_GT' ? BPF.JMP_JGT_K : BPF.JMP_JGE_K, v.lo, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      asm.load(hi); asm.jumpIf(BPF.JMP_JGT_K, v.hi, fail);
      asm.jumpUnless(BPF.JMP_JEQ_K, v.hi, { label: ok });
      asm.load(lo); asm.jumpIf(cond.op === 'SCMP_CMP_LT' ? BPF.JMP_JGE_K : BPF.JMP_JGT_K, v.lo, fail);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      const datum = splitWords(cond.valueTwo ?? 0);
      asm.load(hi); asm.and(v.hi); asm.jumpUnless(BPF.JMP_JEQ_K, datum.hi, fail);
      asm.load(lo); asm.and(v.lo); asm.jumpUnless(BPF.JMP_JEQ_K, datum.lo, fail);
      break;
    }
    default:
      throw new RuntimeError(`unknown seccomp comparison "${String(cond.op)}"`, {}, { hint: 'use SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ' });
  }
  asm.bind(ok);
}

/** The rules of one OCI entry: like runc, conditions repeating an argument index are ORed, not ANDed. */
function rulesOf(args: OciSeccompArg[] | undefined, value: number): Rule[] {
  if (!args || args.length === 0) return [{ conditions: [], value }];
  const indexes = args.map((a) => a.index);
  const repeats = new Set(indexes).size !== indexes.length;
  return repeats ? args.map((arg) => ({ conditions: [arg], value })) : [{ conditions: args, value }];
}

interface ArchPlan {
  audit: number;
  /** For x32: numbers carry X32_SYSCALL_BIT. */
  offset: number;
  rules: Map<number, Rule[]>;
}

function planArch(profile: OciSeccomp, arch: SyscallArch, defaultValue: number): ArchPlan {
  const table = syscallTable(arch);
  const offset = arch === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0;
  const rules = new Map<number, Rule[]>();
  for (const entry of profile.syscalls ?? []) {
    const value = actionValue(entry.action, entry.errnoRet);
    for (const name of entry.names) {
      const nr = table.get(name);
      // Like libseccomp under runc: a name this architecture lacks is skipped, not an error.
      if (nr === undefined) continue;
      const list = rules.get(nr + offset) ?? [];
      list.push(...rulesOf(entry.args, value));
      rules.set(nr + offset, list);
    }
  }
  // Conditional rules first (in profile order), then the first unconditional one; a syscall
  // whose only rule repeats the default action needs no entry at all.
  for (const [nr, list] of rules) {
    const conditional = list.filter((r) => r.conditions.length > 0);
    const plain = list.find((r) => r.conditions.length === 0);
    const ordered = plain ? [...conditional, plain] : conditional;
    if (ordered.length === 1 && !plain?.conditions.length && plain?.value === defaultValue) rules.delete(nr);
    else rules.set(nr, ordered);
  }
  const audit = arch === 'SCMP_ARCH_X86' ? AUDIT_ARCH.I386 : arch === 'SCMP_ARCH_AARCH64' ? AUDIT_ARCH.AARCH64 : AUDIT_ARCH.X86_64;
  return { audit, offset, rules };
}

/** A run of consecutive syscall numbers [start, next segment's start) sharing one target. */
interface Segment { start: number; target: Target }

function sameTarget(a: Target, b: Target): boolean {
  return 'ret' in a && 'ret' in b ? a.ret === b.ret : 'label' in a && 'label' in b && a.label === b.label;
}

/**
 * Cuts the number line into runs: most allowed syscalls are neighbours, so a search over run
 * boundaries is several times shorter than one over single numbers.
 */
function segmentsOf(entries: [number, Target][], fallback: Target): Segment[] {
  const segments: Segment[] = [];
  const push = (start: number, target: Target): void => {
    const last = segments[segments.length - 1];
    if (!last || !sameTarget(last.target, target)) segments.push({ start, target });
  };
  let cursor = 0;
  for (const [nr, target] of entries) {
    if (nr > cursor) push(cursor, fallback);
    push(nr, target);
    cursor = nr + 1;
  }
  push(cursor, fallback);
  return segments;
}

/** Emits a binary search over segment starts; A holds the syscall number. */
function emitSegments(asm: Assembler, segments: Segment[]): void {
  if (segments.length === 1) {
    asm.goto(segments[0].target);
    return;
  }
  const middle = Math.floor(segments.length / 2);
  const upper = asm.label();
  asm.jumpIf(BPF.JMP_JGE_K, segments[middle].start, { label: upper });
  emitSegments(asm, segments.slice(0, middle));
  asm.bind(upper);
  emitSegments(asm, segments.slice(middle));
}

/** Emits the search over syscall numbers in `entries` (sorted); A holds the number. */
function emitDispatch(asm: Assembler, entries: [number, Target][], fallback: Target): void {
  emitSegments(asm, segmentsOf(entries, fallback));
}

/** Emits one architecture's dispatch plus its argument-rule blocks. */
function emitArch(asm: Assembler, plan: ArchPlan, defaultValue: number): void {
  const blocks: [Label, Rule[]][] = [];
  const entries: [number, Target][] = [...plan.rules.entries()].sort((a, b) => a[0] - b[0]).map(([nr, list]) => {
    if (list.length === 1 && list[0].conditions.length === 0) return [nr, { ret: list[0].value }];
    const label = asm.label();
    blocks.push([label, list]);
    return [nr, { label }];
  });
  emitDispatch(asm, entries, { ret: defaultValue });
  for (const [label, list] of blocks) {
    asm.bind(label);
    let fellThrough = true;
    for (const rule of list) {
      if (rule.conditions.length === 0) {
        asm.ret(rule.value);
        fellThrough = false;
        break;
      }
      const next = asm.label();
      for (const cond of rule.conditions) emitCondition(asm, cond, { label: next });
      asm.ret(rule.value);
      asm.bind(next);
    }
    if (fellThrough) asm.ret(defaultValue);
  }
}

const nativeArch: Record<HostArch, string> = { x64: 'SCMP_ARCH_X86_64', ia32: 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM' };

/** Options for compileSeccomp. */
export interface CompileSeccompOptions {
  /** The host architecture (default: process.arch); its native ABI is always filtered. */
  arch?: HostArch;
}

/** The compiled program as instructions (for tests and tooling); see compileSeccomp. */
export function compileSeccompProgram(profile: OciSeccomp, options: CompileSeccompOptions = {}): BpfInstruction[] {
  const hostArch = options.arch ?? (process.arch as HostArch);
  const listed = new Set([nativeArch[hostArch], ...(profile.architectures ?? [])]);
  const defaultValue = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const asm = new Assembler();
  const plans: { plan: ArchPlan; x32?: ArchPlan }[] = [];
  if (listed.has('SCMP_ARCH_X86_64')) {
    plans.push({ plan: planArch(profile, 'SCMP_ARCH_X86_64', defaultValue), x32: listed.has('SCMP_ARCH_X32') ? planArch(profile, 'SCMP_ARCH_X32', defaultValue) : undefined });
  }
  if (listed.has('SCMP_ARCH_X86')) plans.push({ plan: planArch(profile, 'SCMP_ARCH_X86', defaultValue) });
  if (listed.has('SCMP_ARCH_AARCH64')) plans.push({ plan: planArch(profile, 'SCMP_ARCH_AARCH64', defaultValue) });
  // An ABI that is listed but has no table (32-bit ARM) gets the default action for everything:
  // safe, though 32-bit binaries will not get far.
  const denyAll: number[] = listed.has('SCMP_ARCH_ARM') ? [AUDIT_ARCH.ARM] : [];

  const archLabels = plans.map(() => asm.label());
  asm.load(SECCOMP_DATA.arch);
  plans.forEach(({ plan }, i) => asm.jumpIf(BPF.JMP_JEQ_K, plan.audit, { label: archLabels[i] }));
  for (const audit of denyAll) asm.jumpIf(BPF.JMP_JEQ_K, audit, { ret: defaultValue });
  // A system call from an ABI the filter does not cover could bypass it: kill the process.
  asm.ret(SECCOMP_RET.KILL_PROCESS);
  plans.forEach(({ plan, x32 }, i) => {
    asm.bind(archLabels[i]);
    asm.load(SECCOMP_DATA.nr);
    if (plan.audit === AUDIT_ARCH.X86_64) {
      const x32Label = asm.label();
      asm.jumpIf(BPF.JMP_JGE_K, X32_SYSCALL_BIT, x32 ? { label: x32Label } : { ret: SECCOMP_RET.KILL_PROCESS });
      emitArch(asm, plan, defaultValue);
      if (x32) {
        asm.bind(x32Label);
        emitArch(asm, x32, defaultValue);
      }
    } else {
      emitArch(asm, plan, defaultValue);
    }
  });
  const program = asm.assemble();
  if (program.length > maxInstructions) {
    throw new RuntimeError(`seccomp profile compiles to ${program.length} BPF instructions; the kernel accepts at most ${maxInstructions}`, {}, {
      hint: 'merge rules or drop architectures from "architectures"',
    });
  }
  return program;
}

/** Compiles an OCI seccomp profile to a struct sock_filter array (raw bytes). */
export function compileSeccomp(profile: OciSeccomp, options: CompileSeccompOptions = {}): Buffer {
  return encodeProgram(compileSeccompProgram(profile, options));
}
