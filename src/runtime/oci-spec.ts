/**
 * toOciSpec(): the one place that decides what a container is. Pure: the same ContainerSpec and
 * options always give the same config.json, which the golden tests pin down. Defaults follow
 * `docker run`; berth-specific wishes travel as `run.berth.*` annotations that runc and crun
 * ignore and berth-runtime acts on.
 */
import { RuntimeError } from '../errors.js';
import type { ContainerMount, ContainerSpec, ContainerUser } from './container-config.js';
import {
  defaultDeviceCgroup, defaultDevices, defaultMaskedPaths, defaultMounts, defaultPath, defaultReadonlyPaths,
  defaultShmSize, resolveCapabilities,
} from './oci-defaults.js';
import type { OciConfig, OciDevice, OciLinux, OciMount, OciNamespace, OciResources, OciRlimit, OciSeccomp } from './oci-types.js';
import { compileSeccomp } from './seccomp/compile.js';
import { defaultSeccompProfile, type HostArch } from './seccomp/default-profile.js';

/** The annotations berth-runtime understands (runc and crun ignore them). */
export const berthAnnotations = {
  logPath: 'run.berth.log.path',
  logMaxSize: 'run.berth.log.max-size',
  logMaxFile: 'run.berth.log.max-file',
  stdin: 'run.berth.stdin',
  init: 'run.berth.init',
  seccompBpf: 'run.berth.seccomp.bpf',
} as const;

/** Prefix of the annotations that carry container labels. */
export const labelAnnotationPrefix = 'berth.label.';

/** The container labels stored in a config's or state's annotations by toOciSpec. */
export function labelsFromAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (key.startsWith(labelAnnotationPrefix)) labels[key.slice(labelAnnotationPrefix.length)] = value;
  }
  return labels;
}

/** Inputs of toOciSpec that come from the host rather than the container. */
export interface OciSpecOptions {
  /** Host architecture for the seccomp profile (default process.arch). */
  arch?: HostArch;
  /** Device nodes a privileged container gets (the host's /dev), found by the driver. */
  hostDevices?: OciDevice[];
  /** Capabilities the host can grant (hostCapabilities()); bounds privileged and "ALL". */
  availableCapabilities?: string[];
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const rlimitNames: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** RLIM_INFINITY as written in config.json (serializeOciConfig turns -1 into 2^64-1). */
export const rlimitInfinity = -1;

function rlimitsOf(spec: ContainerSpec): OciRlimit[] | undefined {
  if (!spec.ulimits) return undefined;
  const limits: OciRlimit[] = [];
  for (const name of Object.keys(spec.ulimits).sort()) {
    const lower = name.toLowerCase().replace(/^rlimit_/, '');
    const type = rlimitNames[lower];
    if (!type) {
      throw new RuntimeError(`unknown ulimit "${name}" for container "${spec.id}"`, { containerId: spec.id }, { hint: `known ulimits: ${Object.keys(rlimitNames).join(', ')}` });
    }
    const { soft, hard } = spec.ulimits[name];
    const norm = (v: number): number => (v < 0 ? rlimitInfinity : v);
    if (hard >= 0 && (soft < 0 || soft > hard)) {
      throw new RuntimeError(`ulimit "${name}" of container "${spec.id}" has soft limit ${soft} above hard limit ${hard}`, { containerId: spec.id });
    }
    limits.push({ type, soft: norm(soft), hard: norm(hard) });
  }
  return limits;
}

function mountOf(mount: ContainerMount, containerId: string): OciMount {
  if (!mount.target.startsWith('/')) {
    throw new RuntimeError(`mount target "${mount.target}" of container "${containerId}" is not an absolute path`, { containerId });
  }
  if (mount.type === 'tmpfs') {
    const options = ['nosuid', 'nodev', 'noexec'];
    if (mount.tmpfsSize !== undefined) options.push(`size=${mount.tmpfsSize}`);
    if (mount.tmpfsMode !== undefined) options.push(`mode=${mount.tmpfsMode.toString(8)}`);
    if (mount.readOnly) options.push('ro');
    return { destination: mount.target, type: 'tmpfs', source: 'tmpfs', options: [...options, ...(mount.options ?? [])] };
  }
  if (!mount.source || !mount.source.startsWith('/')) {
    throw new RuntimeError(`${mount.type} mount "${mount.target}" of container "${containerId}" needs an absolute host source path`, { containerId });
  }
  const options = ['rbind'];
  const extra = mount.options ?? [];
  if (!extra.some((o) => /^r?(private|shared|slave)$/.test(o))) options.push('rprivate');
  if (mount.readOnly) options.push('ro');
  return { destination: mount.target, type: 'bind', source: mount.source, options: [...options, ...extra] };
}

function tmpfsMountsOf(tmpfs: Record<string, string> | undefined): OciMount[] {
  return Object.keys(tmpfs ?? {}).sort().map((target) => {
    const given = (tmpfs as Record<string, string>)[target].split(',').map((o) => o.trim()).filter(Boolean);
    return { destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...given] };
  });
}

/** Mounts: defaults first, then the user's sorted parents-first; a user mount replaces a default at the same target. */
function mountsOf(spec: ContainerSpec): OciMount[] {
  const user = [...(spec.mounts ?? []).map((m) => mountOf(m, spec.id)), ...tmpfsMountsOf(spec.tmpfs)];
  const depth = (p: string): number => p.split('/').filter(Boolean).length;
  user.sort((a, b) => depth(a.destination) - depth(b.destination));
  const targets = new Set(user.map((m) => m.destination.replace(/\/+$/, '')));
  const defaults = defaultMounts({ shmSize: spec.shmSize ?? defaultShmSize, privileged: spec.privileged ?? false })
    .filter((m) => !targets.has(m.destination));
  return [...defaults, ...user];
}

function namespacesOf(spec: ContainerSpec): OciNamespace[] {
  const namespaces: OciNamespace[] = [];
  if (!spec.pidHost) namespaces.push({ type: 'pid' });
  const network = spec.network ?? 'none';
  if (network === 'none') namespaces.push({ type: 'network' });
  else if (network !== 'host') namespaces.push({ type: 'network', path: network.path });
  if (!spec.ipcHost) namespaces.push({ type: 'ipc' });
  namespaces.push({ type: 'uts' }, { type: 'mount' });
  if ((spec.cgroupns ?? 'private') === 'private') namespaces.push({ type: 'cgroup' });
  return namespaces;
}

function resourcesOf(spec: ContainerSpec, hostDevices: boolean): OciResources {
  const r = spec.resources ?? {};
  const resources: OciResources = {};
  if (hostDevices) resources.devices = [{ allow: true, access: 'rwm' }];
  else {
    resources.devices = [...defaultDeviceCgroup.map((rule) => ({ ...rule }))];
    for (const device of spec.devices ?? []) {
      resources.devices.push({ allow: true, type: device.type, major: device.major, minor: device.minor, access: device.access ?? 'rwm' });
    }
  }
  if (r.memory !== undefined || r.memoryReservation !== undefined || r.memorySwap !== undefined) {
    resources.memory = {};
    if (r.memory !== undefined) resources.memory.limit = r.memory;
    if (r.memoryReservation !== undefined) resources.memory.reservation = r.memoryReservation;
    // Like Docker: without memory_swap, a limited container may use as much swap as memory.
    if (r.memorySwap !== undefined) resources.memory.swap = r.memorySwap;
    else if (r.memory !== undefined && r.memory > 0) resources.memory.swap = r.memory * 2;
  }
  if (r.cpuShares !== undefined || r.cpuQuota !== undefined || r.cpuPeriod !== undefined || r.cpusetCpus !== undefined || r.cpusetMems !== undefined) {
    resources.cpu = {};
    if (r.cpuShares !== undefined) resources.cpu.shares = r.cpuShares;
    if (r.cpuQuota !== undefined) resources.cpu.quota = r.cpuQuota;
    if (r.cpuPeriod !== undefined) resources.cpu.period = r.cpuPeriod;
    if (r.cpusetCpus !== undefined) resources.cpu.cpus = r.cpusetCpus;
    if (r.cpusetMems !== undefined) resources.cpu.mems = r.cpusetMems;
  }
  if (r.pidsLimit !== undefined) resources.pids = { limit: r.pidsLimit };
  if (r.blkioWeight !== undefined) resources.blockIO = { weight: r.blkioWeight };
  return resources;
}

/** A numeric user; "uid[:gid]" strings are taken as is, names must have been resolved. */
function numericUser(spec: ContainerSpec): ContainerUser {
  if (spec.user === undefined) return { uid: 0, gid: 0 };
  if (typeof spec.user === 'object') return spec.user;
  const match = /^\s*(\d+)(?::(\d+))?\s*$/.exec(spec.user);
  if (!match) {
    throw new RuntimeError(`user "${spec.user}" of container "${spec.id}" is not numeric`, { containerId: spec.id }, {
      hint: 'resolve user names against the image with resolveSpecUser(spec) before toOciSpec',
    });
  }
  return { uid: Number(match[1]), gid: Number(match[2] ?? 0) };
}

function envOf(spec: ContainerSpec, user: ContainerUser, hostname: string): string[] {
  const env = [...(spec.env ?? [])];
  const has = (key: string): boolean => env.some((e) => e.startsWith(`${key}=`));
  const front: string[] = [];
  if (!has('PATH')) front.push(defaultPath);
  if (!has('HOSTNAME')) front.push(`HOSTNAME=${hostname}`);
  if (spec.tty && !has('TERM')) front.push('TERM=xterm');
  const result = [...front, ...env];
  if (!has('HOME')) result.push(`HOME=${user.home ?? (user.uid !== 0 ? '/' : '/root')}`);
  return result;
}

function seccompOf(spec: ContainerSpec, capabilities: string[], arch: HostArch): OciSeccomp | undefined {
  if (spec.privileged) return undefined;
  const choice = spec.seccomp ?? 'default';
  if (choice === 'unconfined') return undefined;
  if (!['x64', 'arm64', 'ia32', 'arm'].includes(arch)) {
    throw new RuntimeError(`no seccomp support for host architecture "${arch}" (container "${spec.id}")`, { containerId: spec.id }, {
      hint: 'berth compiles seccomp for x86_64 and aarch64; run with security_opt "seccomp=unconfined" on other hosts',
    });
  }
  if (choice === 'default') return defaultSeccompProfile(capabilities, arch);
  return choice;
}

/** Builds the OCI config.json for one container. Throws RuntimeError for specs no runtime could run. */
export function toOciSpec(spec: ContainerSpec, options: OciSpecOptions = {}): OciConfig {
  if (!idPattern.test(spec.id)) {
    throw new RuntimeError(`invalid container id "${spec.id}"`, { containerId: spec.id }, { hint: 'ids are 1-128 characters of letters, digits, "_", "." and "-", starting with a letter or digit' });
  }
  if (!spec.rootfs.startsWith('/')) throw new RuntimeError(`rootfs "${spec.rootfs}" of container "${spec.id}" is not an absolute path`, { containerId: spec.id });
  if (spec.args.length === 0) throw new RuntimeError(`container "${spec.id}" has no command to run`, { containerId: spec.id }, { hint: 'set command or entrypoint' });
  const arch = options.arch ?? (process.arch as HostArch);
  const privileged = spec.privileged ?? false;
  const capabilities = resolveCapabilities(spec.capAdd, spec.capDrop, privileged, options.availableCapabilities);
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  const user = numericUser(spec);

  const annotations: Record<string, string> = { ...(spec.annotations ?? {}) };
  for (const key of Object.keys(spec.labels ?? {}).sort()) annotations[labelAnnotationPrefix + key] = (spec.labels as Record<string, string>)[key];
  if (spec.log) {
    annotations[berthAnnotations.logPath] = spec.log.path;
    if (spec.log.maxSize !== undefined) annotations[berthAnnotations.logMaxSize] = String(spec.log.maxSize);
    if (spec.log.maxFile !== undefined) annotations[berthAnnotations.logMaxFile] = String(spec.log.maxFile);
  }
  if (spec.stdin) annotations[berthAnnotations.stdin] = 'true';
  if (spec.init) annotations[berthAnnotations.init] = 'true';
  const seccomp = seccompOf(spec, capabilities, arch);
  if (seccomp) annotations[berthAnnotations.seccompBpf] = compiledSeccomp(seccomp, arch);

  const linux: OciLinux = {
    namespaces: namespacesOf(spec),
    devices: privileged ? [...(options.hostDevices ?? [])] : [...defaultDevices.map((d) => ({ ...d })), ...(spec.devices ?? []).map((d) => ({
      path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0,
    }))],
    cgroupsPath: `/${(spec.cgroupParent ?? '/berth').replace(/^\/+|\/+$/g, '')}/${spec.id}`.replace(/^\/\//, '/'),
    resources: resourcesOf(spec, privileged),
  };
  if (spec.sysctls && Object.keys(spec.sysctls).length > 0) {
    linux.sysctl = Object.fromEntries(Object.keys(spec.sysctls).sort().map((k) => [k, (spec.sysctls as Record<string, string>)[k]]));
  }
  if (seccomp) linux.seccomp = seccomp;
  if (!privileged) {
    linux.maskedPaths = [...defaultMaskedPaths];
    linux.readonlyPaths = [...defaultReadonlyPaths];
  }

  const config: OciConfig = {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty ?? false,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids && user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}) },
      args: [...spec.args],
      env: envOf(spec, user, hostname),
      cwd: spec.cwd ?? '/',
      // Like Docker since 20.10: no inheritable or ambient capabilities, so exec'd binaries
      // (setcap'd or not) cannot pick up more than the container process holds.
      capabilities: { bounding: [...capabilities], effective: [...capabilities], permitted: [...capabilities] },
      noNewPrivileges: spec.noNewPrivileges ?? false,
    },
    root: { path: spec.rootfs, readonly: spec.readOnly ?? false },
    hostname,
    mounts: mountsOf(spec),
    annotations,
    linux,
  };
  if (spec.domainname) config.domainname = spec.domainname;
  const rlimits = rlimitsOf(spec);
  if (rlimits) config.process.rlimits = rlimits;
  if (spec.oomScoreAdj !== undefined) config.process.oomScoreAdj = spec.oomScoreAdj;
  if (spec.hooks) config.hooks = spec.hooks;
  return config;
}

/** config.json text: stable two-space JSON, with RLIM_INFINITY written as the exact uint64 runtimes expect. */
export function serializeOciConfig(config: OciConfig): string {
  const text = JSON.stringify(config, null, 2);
  return `${text.replace(/"(soft|hard)": -1\b/g, '"$1": 18446744073709551615')}\n`;
}

/** Compiled programs by profile: the containers of a stack mostly share one profile, compiled once per process. */
const seccompCache = new Map<string, string>();

function compiledSeccomp(profile: OciSeccomp, arch: HostArch): string {
  const key = `${arch}\0${JSON.stringify(profile)}`;
  let program = seccompCache.get(key);
  if (program === undefined) {
    program = compileSeccomp(profile, { arch }).toString('base64');
    if (seccompCache.size > 32) seccompCache.clear();
    seccompCache.set(key, program);
  }
  return program;
}
