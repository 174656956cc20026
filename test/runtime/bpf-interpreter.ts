/**
 * A small classic-BPF interpreter for seccomp programs, so compiler tests can run a compiled
 * filter against synthetic struct seccomp_data and check the action the kernel would take.
 * Supports exactly the instructions seccomp allows the compiler to use; anything else throws.
 */
import { BPF, SECCOMP_DATA, type BpfInstruction } from '../../src/runtime/seccomp/index.js';

/** The input of one system call as the kernel hands it to the filter. */
export interface SeccompInput {
  nr: number;
  arch: number;
  args?: (number | bigint)[];
  instructionPointer?: bigint;
}

function dataWord(input: SeccompInput, offset: number): number {
  if (offset === SECCOMP_DATA.nr) return input.nr >>> 0;
  if (offset === SECCOMP_DATA.arch) return input.arch >>> 0;
  if (offset >= SECCOMP_DATA.args && offset < SECCOMP_DATA.args + 48 && offset % 4 === 0) {
    const index = Math.floor((offset - SECCOMP_DATA.args) / 8);
    const value = BigInt.asUintN(64, BigInt(input.args?.[index] ?? 0));
    return Number((offset - SECCOMP_DATA.args) % 8 === 0 ? value & 0xffffffffn : value >> 32n);
  }
  if (offset === 8 || offset === 12) {
    const ip = input.instructionPointer ?? 0n;
    return Number(offset === 8 ? ip & 0xffffffffn : ip >> 32n);
  }
  throw new Error(`bpf: load outside seccomp_data at offset ${offset}`);
}

/** Runs the program and returns the 32-bit value of its RET; throws on malformed programs. */
export function runSeccompFilter(program: readonly BpfInstruction[], input: SeccompInput): number {
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps < 100_000; steps++) {
    const insn = program[pc];
    if (!insn) throw new Error(`bpf: fell off the program at ${pc}`);
    switch (insn.code) {
      case BPF.LD_W_ABS: a = dataWord(input, insn.k); pc++; break;
      case BPF.ALU_AND_K: a = (a & insn.k) >>> 0; pc++; break;
      case BPF.JMP_JA: pc += 1 + insn.k; break;
      case BPF.JMP_JEQ_K: pc += 1 + (a === insn.k >>> 0 ? insn.jt : insn.jf); break;
      case BPF.JMP_JGT_K: pc += 1 + (a > insn.k >>> 0 ? insn.jt : insn.jf); break;
      case BPF.JMP_JGE_K: pc += 1 + (a >= insn.k >>> 0 ? insn.jt : insn.jf); break;
      case BPF.JMP_JSET_K: pc += 1 + ((a & insn.k) !== 0 ? insn.jt : insn.jf); break;
      case BPF.RET_K: return insn.k >>> 0;
      default: throw new Error(`bpf: unsupported instruction 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('bpf: program did not terminate');
}

/** Checks what the kernel checks at load time: length, known codes, jumps inside the program, ends in RET. */
export function validateSeccompProgram(program: readonly BpfInstruction[]): void {
  if (program.length === 0 || program.length > 4096) throw new Error(`bpf: bad length ${program.length}`);
  const known = new Set<number>(Object.values(BPF));
  program.forEach((insn, pc) => {
    if (!known.has(insn.code)) throw new Error(`bpf: unknown code at ${pc}`);
    if (insn.jt > 255 || insn.jf > 255) throw new Error(`bpf: jump offset over 255 at ${pc}`);
    const targets = insn.code === BPF.JMP_JA ? [pc + 1 + insn.k] : (insn.code & 0x07) === 0x05 ? [pc + 1 + insn.jt, pc + 1 + insn.jf] : [];
    for (const t of targets) if (t >= program.length) throw new Error(`bpf: jump out of program at ${pc}`);
  });
  if (program[program.length - 1].code !== BPF.RET_K) throw new Error('bpf: last instruction is not RET');
}
