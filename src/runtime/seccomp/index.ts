/** Seccomp for berth containers: Docker-compatible default profile and a BPF compiler. */
export { defaultSeccompProfile, seccompArchitectures, type HostArch } from './default-profile.js';
export { compileSeccomp, compileSeccompProgram, actionValue, type CompileSeccompOptions } from './compile.js';
export { AUDIT_ARCH, BPF, SECCOMP_RET, SECCOMP_DATA, X32_SYSCALL_BIT, decodeProgram, encodeProgram, maxInstructions, type BpfInstruction } from './bpf.js';
export { syscallTable, type SyscallArch } from './syscall-tables.js';
