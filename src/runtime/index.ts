/** The TypeScript half of berth's container runtime: OCI config generation, seccomp, and the runtime driver. */
export type { ContainerSpec, ContainerUser, ContainerMount, ContainerDevice, ContainerResources, ContainerUlimit, ContainerLogOptions, ContainerNetwork, ContainerSeccomp } from './container-config.js';
export type { OciConfig, OciState, OciSeccomp, OciMount, OciDevice, OciHooks } from './oci-types.js';
export { toOciSpec, serializeOciConfig, berthAnnotations, labelAnnotationPrefix, labelsFromAnnotations, type OciSpecOptions } from './oci-spec.js';
export { defaultCapabilities, allCapabilities, resolveCapabilities, hostCapabilities, defaultMaskedPaths, defaultReadonlyPaths } from './oci-defaults.js';
export { resolveUser, resolveSpecUser, resolveInRootfs } from './resolve-user.js';
export { compileSeccomp, compileSeccompProgram, defaultSeccompProfile, type HostArch } from './seccomp/index.js';
export { hostSpecOptions, isHybridCgroupHost, listHostDevices } from './host.js';
export { RuntimeDriver, isNotFoundError, parseRuntimeLog, type RuntimeDriverOptions, type RuntimeKind, type RunResult, type ExecOptions, type AttachedOptions, type DetachedOptions, type RuntimeListEntry } from './driver.js';
export { readCgroupStats, cgroupVersion, type ContainerStats } from './cgroup-stats.js';
