/**
 * Classic BPF as seccomp uses it: instruction encodings, return values and the layout of
 * struct seccomp_data. Shared by the compiler and by anything that reads compiled programs.
 */

/** Instruction codes the compiler emits (class | size/op | source). */
export const BPF = {
  LD_W_ABS: 0x20, // A = seccomp_data[k] (32-bit)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGT_K: 0x25, // unsigned A > k
  JMP_JGE_K: 0x35, // unsigned A >= k
  JMP_JSET_K: 0x45, // A & k
  RET_K: 0x06, // return k
} as const;

/** Kernel limit on the number of instructions in one filter (BPF_MAXINSNS). */
export const maxInstructions = 4096;

/** seccomp return values; the low 16 bits carry data (errno, trace message). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** Offsets in struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }. */
export const SECCOMP_DATA = { nr: 0, arch: 4, instructionPointer: 8, args: 16 } as const;

/** AUDIT_ARCH_* values the kernel reports in seccomp_data.arch. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** x32 system calls run under AUDIT_ARCH_X86_64 with this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

/** One struct sock_filter. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Encodes instructions as the kernel's struct sock_filter array (little-endian hosts). */
export function encodeProgram(program: readonly BpfInstruction[]): Buffer {
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    buffer.writeUInt16LE(insn.code, i * 8);
    buffer.writeUInt8(insn.jt, i * 8 + 2);
    buffer.writeUInt8(insn.jf, i * 8 + 3);
    buffer.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buffer;
}

/** Decodes a struct sock_filter array. */
export function decodeProgram(buffer: Buffer): BpfInstruction[] {
  const program: BpfInstruction[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; offset += 8) {
    program.push({
      code: buffer.readUInt16LE(offset),
      jt: buffer.readUInt8(offset + 2),
      jf: buffer.readUInt8(offset + 3),
      k: buffer.readUInt32LE(offset + 4),
    });
  }
  return program;
}
