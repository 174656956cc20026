/**
 * buildContainerSpec(): one service replica (or one-off) + its image → the runtime's
 * ContainerSpec and the record fields the engine stores. Compose semantics decide every default
 * (entrypoint/command against the image, environment over the image's Env, healthcheck and stop
 * signal inherited from the image, restart policy, 10 s stop grace period). Side effects are
 * limited to what the container needs on disk before it is created: missing bind sources
 * (short syntax), named and anonymous volumes (populated from the image on first use), the
 * working directory in the rootfs, and configs/secrets in the container's state directory.
 */
import { readFileSync, statSync, mkdirSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { ApplyError } from '../errors.js';
import type { StoredImage } from '../images/index.js';
import type { PortConfig, Project, Service, VolumeMount } from '../model/types.js';
import type {
  ContainerDevice, ContainerMount, ContainerResources, ContainerSeccomp, ContainerSpec, ContainerUlimit, ContainerUser,
} from '../runtime/container-config.js';
import type { OciSeccomp, OciSeccompSyscall } from '../runtime/oci-types.js';
import { resolveInRootfs, resolveUser } from '../runtime/resolve-user.js';
import { parseByteSize, parseDuration } from '../validate/syntax/units.js';
import { prepareServiceFiles } from './files.js';
import type { ContainerHook, ContainerRecord, HealthcheckSpec, NetworkAttachment, RestartPolicy } from './types.js';
import { Labels } from './types.js';
import {
  anonymousContainerLabel, anonymousTargetLabel, anonymousVolumeLabel, anonymousVolumeName, type VolumeManager,
} from './volumes.js';

/** What `berth run` changes about a service for its one-off container. */
export interface RunOverrides {
  /** Replaces the service's command (`berth run svc CMD...`). */
  command?: string[];
  /** Replaces the entrypoint (`--entrypoint`); clears the image's CMD unless `command` is given. */
  entrypoint?: string[];
  /** Added over the service's environment (`-e KEY=VAL`). */
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  tty?: boolean;
  stdinOpen?: boolean;
  /** Extra mounts (`-v`), long syntax with absolute bind sources; replace service mounts at the same target. */
  volumes?: VolumeMount[];
  /** Ports to publish instead of the service's (`-p`, `--service-ports`); read by the network layer through serviceWithOverrides(). */
  ports?: PortConfig[];
  /** Extra labels (`--label`). */
  labels?: Record<string, string>;
}

/** Everything buildContainerSpec needs. */
export interface SpecInput {
  project: Project;
  service: Service;
  image: StoredImage;
  /** Runtime id (the container name). */
  containerId: string;
  name: string;
  number: number;
  oneoff: boolean;
  /** Prepared rootfs (prepareContainerRootfs). */
  rootfs: string;
  /** `<stateRoot>/projects/<project>/containers/<name>`: configs and secrets are written here. */
  stateDir: string;
  logPath: string;
  /** Labels of the container (service labels plus berth's). */
  labels: Record<string, string>;
  network: NetworkAttachment;
  volumes: VolumeManager;
  overrides?: RunOverrides;
  /**
   * Anonymous volumes to reuse, by container path (from the container being recreated; see
   * anonymousVolumesOf()). Without it every anonymous mount gets a fresh volume (`up -V`).
   */
  inheritAnonymousVolumes?: Record<string, string>;
  /**
   * Mounts taken from other containers (`volumes_from`), resolved by the engine. A mount of the
   * service's own at the same target wins; `volume` names a named volume (kept by `down -v`
   * while this container uses it).
   */
  volumesFrom?: Array<{ source: string; target: string; readOnly: boolean; volume?: string }>;
}

/**
 * The spec plus the record fields it decides: the process, lifecycle, healthcheck, the named
 * volumes mounted (real names) and the anonymous volumes created or reused for this container.
 */
export type BuiltSpec = { spec: ContainerSpec } & Pick<ContainerRecord,
  'args' | 'env' | 'workingDir' | 'user' | 'tty' | 'stdinOpen' | 'stopSignal' | 'stopGraceMs' | 'restart' | 'healthcheck' | 'volumes' | 'anonymousVolumes'>;

/** A compose lifecycle hook (`post_start`, `pre_stop`): run as an exec in the container. */
export type LifecycleHook = ContainerHook;

/** Docker's healthcheck defaults. */
export const healthDefaults = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000 } as const;
/** Seconds a container gets between its stop signal and SIGKILL when stop_grace_period is not set. */
export const defaultStopGraceMs = 10_000;

type Fail = (key: string, message: string, hint?: string) => never;

function failer(service: Service): Fail {
  return (key, message, hint) => {
    throw new ApplyError(`service "${service.name}": ${key}: ${message}`, 'container', service.name, { hint });
  };
}

function asBool(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (['true', 'yes', 'y', 'on', '1'].includes(text)) return true;
  if (['false', 'no', 'n', 'off', '0'].includes(text)) return false;
  return undefined;
}

function asNumber(value: unknown, key: string, fail: Fail): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n)) fail(key, `"${String(value)}" is not a number`);
  return n;
}

function asBytes(value: unknown, key: string, fail: Fail): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  try {
    return parseByteSize(value as string | number);
  } catch (err) {
    return fail(key, (err as Error).message);
  }
}

function asDuration(value: unknown, key: string, fail: Fail): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value / 1e6; // a bare number is nanoseconds (Go durations)
  try {
    return parseDuration(String(value));
  } catch (err) {
    return fail(key, (err as Error).message);
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The service with `berth run` overrides applied to the fields other layers read (ports, labels). */
export function serviceWithOverrides(service: Service, overrides: RunOverrides | undefined): Service {
  if (!overrides) return service;
  const result: Record<string, unknown> = { ...service };
  if (overrides.ports !== undefined) result.ports = overrides.ports;
  if (overrides.labels) result.labels = { ...(service.labels ?? {}), ...overrides.labels };
  return result as unknown as Service;
}

/**
 * Entrypoint + command with compose semantics: `null`/absent takes the image's value; `[]`
 * clears it; an explicit non-empty entrypoint drops the image's CMD unless a command is given.
 */
export function resolveArgs(
  image: { Entrypoint?: string[] | null; Cmd?: string[] | null },
  entrypoint: readonly string[] | null | undefined,
  command: readonly string[] | null | undefined,
): string[] {
  const entry = entrypoint === undefined || entrypoint === null ? image.Entrypoint ?? [] : entrypoint;
  let cmd: readonly string[];
  if (command !== undefined && command !== null) cmd = command;
  else if (entrypoint !== undefined && entrypoint !== null && entrypoint.length > 0) cmd = [];
  else cmd = image.Cmd ?? [];
  return [...entry, ...cmd];
}

/** Environment: the image's Env, then the service's values over it (same keys replaced in place). */
export function mergeEnvironment(imageEnv: readonly string[] | undefined, ...layers: Array<Readonly<Record<string, string | null | undefined>> | undefined>): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  const set = (key: string, value: string): void => {
    if (!values.has(key)) order.push(key);
    values.set(key, value);
  };
  for (const entry of imageEnv ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value === undefined || value === null) continue;
      set(key, String(value));
    }
  }
  return order.map((key) => `${key}=${values.get(key)}`);
}

/** `SIGTERM`, `TERM`, `15` → `SIGTERM` / `15`. */
export function normalizeSignal(signal: string): string {
  const text = signal.trim().toUpperCase();
  if (/^\d+$/.test(text)) return text;
  return text.startsWith('SIG') ? text : `SIG${text}`;
}

/** restart / deploy.restart_policy → RestartPolicy. */
export function restartPolicyOf(service: Pick<Service, 'restart' | 'deploy' | 'name'>): RestartPolicy {
  const fail = failer(service as Service);
  const restart = service.restart;
  if (restart !== undefined && restart !== null && restart !== '') {
    const text = String(restart).trim();
    if (text === 'no' || text === 'always' || text === 'unless-stopped') return { name: text, maxRetries: 0 };
    const match = /^on-failure(?::(\d+))?$/.exec(text);
    if (match) return { name: 'on-failure', maxRetries: match[1] === undefined ? 0 : Number(match[1]) };
    return fail('restart', `unknown restart policy "${text}"`, 'use "no", "always", "on-failure[:max-retries]" or "unless-stopped"');
  }
  const policy = record(record(service.deploy)?.restart_policy);
  if (policy) {
    const condition = String(policy.condition ?? 'any');
    const max = asNumber(policy.max_attempts, 'deploy.restart_policy.max_attempts', fail) ?? 0;
    if (condition === 'none') return { name: 'no', maxRetries: 0 };
    if (condition === 'on-failure') return { name: 'on-failure', maxRetries: max };
    if (condition === 'any') return max > 0 ? { name: 'on-failure', maxRetries: max } : { name: 'always', maxRetries: 0 };
    return fail('deploy.restart_policy.condition', `unknown condition "${condition}"`, 'use "none", "on-failure" or "any"');
  }
  return { name: 'no', maxRetries: 0 };
}

/**
 * The healthcheck: the service's fields over the image's HEALTHCHECK (image durations are in
 * nanoseconds), Docker's defaults for the rest; undefined when there is none or it is disabled.
 */
export function healthcheckOf(service: Pick<Service, 'healthcheck' | 'name'>, image: StoredImage['config']['config']): HealthcheckSpec | undefined {
  const fail = failer(service as Service);
  const own = service.healthcheck;
  if (own && asBool(own.disable) === true) return undefined;
  const fromImage = image?.Healthcheck;
  const test = own?.test && own.test.length > 0 ? [...own.test] : fromImage?.Test ? [...fromImage.Test] : undefined;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  let normalized = test;
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') normalized = ['CMD', ...test];
  if (normalized.length < 2) fail('healthcheck.test', `"${test.join(' ')}" has no command`, 'write e.g. ["CMD", "curl", "-f", "http://localhost"] or "curl -f http://localhost"');
  const imageMs = (ns: number | undefined): number | undefined => (ns && ns > 0 ? ns / 1e6 : undefined);
  const pick = (key: string, value: unknown, imageValue: number | undefined, fallback: number): number => {
    const parsed = asDuration(value, `healthcheck.${key}`, fail);
    return parsed !== undefined && parsed > 0 ? parsed : imageValue ?? fallback;
  };
  const retries = asNumber(own?.retries, 'healthcheck.retries', fail);
  return {
    test: normalized,
    intervalMs: pick('interval', own?.interval, imageMs(fromImage?.Interval), healthDefaults.intervalMs),
    timeoutMs: pick('timeout', own?.timeout, imageMs(fromImage?.Timeout), healthDefaults.timeoutMs),
    retries: retries !== undefined && retries > 0 ? retries : fromImage?.Retries && fromImage.Retries > 0 ? fromImage.Retries : healthDefaults.retries,
    startPeriodMs: pick('start_period', own?.start_period, imageMs(fromImage?.StartPeriod), healthDefaults.startPeriodMs),
    startIntervalMs: pick('start_interval', own?.start_interval, imageMs(fromImage?.StartInterval), healthDefaults.startIntervalMs),
  };
}

/** The service's `post_start` and `pre_stop` hooks, for the engine to run as execs. */
export function lifecycleHooks(service: Service): { postStart: LifecycleHook[]; preStop: LifecycleHook[] } {
  const parse = (value: unknown, key: string): LifecycleHook[] => {
    if (!Array.isArray(value)) return [];
    return value.map((entry, index) => {
      const hook = record(entry) ?? {};
      const raw = hook.command;
      const command = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? ['/bin/sh', '-c', raw] : [];
      if (command.length === 0) failer(service)(`${key}[${index}].command`, 'is missing', 'give the hook a command, e.g. command: ["touch", "/ready"]');
      const envValue = hook.environment;
      const env = Array.isArray(envValue)
        ? envValue.map(String)
        : Object.entries(record(envValue) ?? {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${String(v)}`);
      return {
        command,
        user: hook.user === undefined ? undefined : String(hook.user),
        privileged: asBool(hook.privileged) ?? false,
        workingDir: hook.working_dir === undefined ? undefined : String(hook.working_dir),
        env,
      };
    });
  };
  return { postStart: parse(service.post_start, 'post_start'), preStop: parse(service.pre_stop, 'pre_stop') };
}

/** `ulimits` → name → { soft, hard }. */
export function ulimitsOf(value: unknown, fail: Fail): Record<string, ContainerUlimit> | undefined {
  const map = record(value);
  if (!map) return undefined;
  const result: Record<string, ContainerUlimit> = {};
  for (const [name, limit] of Object.entries(map)) {
    const entry = record(limit);
    if (entry) {
      result[name] = { soft: asNumber(entry.soft, `ulimits.${name}.soft`, fail) ?? -1, hard: asNumber(entry.hard, `ulimits.${name}.hard`, fail) ?? -1 };
    } else {
      const n = asNumber(limit, `ulimits.${name}`, fail) ?? -1;
      result[name] = { soft: n, hard: n };
    }
  }
  return result;
}

/** Resource limits from the service attributes, falling back to deploy.resources. */
export function resourcesOf(service: Service, fail: Fail): ContainerResources | undefined {
  const resources: ContainerResources = {};
  const deploy = record(record(service.deploy)?.resources);
  const limits = record(deploy?.limits) ?? {};
  const reservations = record(deploy?.reservations) ?? {};
  const memory = asBytes(service.mem_limit, 'mem_limit', fail) ?? asBytes(limits.memory, 'deploy.resources.limits.memory', fail);
  if (memory !== undefined && memory > 0) resources.memory = memory;
  const reservation = asBytes(service.mem_reservation, 'mem_reservation', fail) ?? asBytes(reservations.memory, 'deploy.resources.reservations.memory', fail);
  if (reservation !== undefined && reservation > 0) resources.memoryReservation = reservation;
  const swap = service.memswap_limit === -1 || service.memswap_limit === '-1' ? -1 : asBytes(service.memswap_limit, 'memswap_limit', fail);
  if (swap !== undefined && swap !== 0) resources.memorySwap = swap;
  const cpus = asNumber(service.cpus, 'cpus', fail) ?? asNumber(limits.cpus, 'deploy.resources.limits.cpus', fail);
  const period = asNumber(service.cpu_period, 'cpu_period', fail);
  const quota = asNumber(service.cpu_quota, 'cpu_quota', fail);
  if (cpus !== undefined && cpus > 0) {
    resources.cpuPeriod = period ?? 100_000;
    resources.cpuQuota = Math.round(cpus * resources.cpuPeriod);
  } else {
    if (period !== undefined) resources.cpuPeriod = period;
    if (quota !== undefined) resources.cpuQuota = quota;
  }
  const shares = asNumber(service.cpu_shares, 'cpu_shares', fail);
  if (shares !== undefined && shares > 0) resources.cpuShares = shares;
  if (typeof service.cpuset === 'string' && service.cpuset !== '') resources.cpusetCpus = service.cpuset;
  const pids = asNumber(service.pids_limit, 'pids_limit', fail) ?? asNumber(limits.pids, 'deploy.resources.limits.pids', fail);
  if (pids !== undefined && pids !== 0) resources.pidsLimit = pids;
  const blkio = asNumber(record(service.blkio_config)?.weight, 'blkio_config.weight', fail);
  if (blkio !== undefined) resources.blkioWeight = blkio;
  return Object.keys(resources).length > 0 ? resources : undefined;
}

/** A host device node → major/minor (Linux dev_t encoding). */
function deviceNumbers(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/** `devices`: "/dev/x", "/dev/x:/dev/y[:rwm]" or { source, target, permissions }. */
export function devicesOf(value: unknown, fail: Fail): ContainerDevice[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry, index) => {
    let source: string;
    let target: string;
    let access = 'rwm';
    const map = record(entry);
    if (map) {
      source = String(map.source);
      target = String(map.target ?? map.source);
      if (map.permissions !== undefined) access = String(map.permissions);
    } else {
      const parts = String(entry).split(':');
      source = parts[0];
      target = parts[1] && parts[1].startsWith('/') ? parts[1] : source;
      const last = parts[parts.length - 1];
      if (parts.length > 1 && /^[rwm]+$/.test(last)) access = last;
    }
    let stats;
    try {
      stats = statSync(source, { bigint: true });
    } catch {
      return fail(`devices[${index}]`, `device "${source}" does not exist on this host`, 'remove the entry or load the driver that provides the device');
    }
    const type = stats.isCharacterDevice() ? 'c' : stats.isBlockDevice() ? 'b' : undefined;
    if (!type) return fail(`devices[${index}]`, `"${source}" is not a device node`, 'name a character or block device such as /dev/fuse');
    return { path: target, type, ...deviceNumbers(stats.rdev), access, fileMode: Number(stats.mode & 0o777n), uid: 0, gid: 0 };
  });
}

/** Docker's seccomp profile format (defaultAction, archMap, syscalls with names/includes) → OCI shape. */
function seccompProfileOf(file: string, fail: Fail): OciSeccomp {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail('security_opt', `cannot read seccomp profile "${file}": ${(err as Error).message}`, 'give the path of a JSON seccomp profile, or "seccomp=unconfined"');
  }
  const archMap = Array.isArray(raw.archMap) ? (raw.archMap as Array<{ architecture: string; subArchitectures?: string[] }>) : [];
  const architectures = Array.isArray(raw.architectures)
    ? (raw.architectures as string[])
    : archMap.flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  const syscalls: OciSeccompSyscall[] = [];
  for (const entry of (Array.isArray(raw.syscalls) ? raw.syscalls : []) as Array<Record<string, unknown>>) {
    const includes = record(entry.includes);
    // Conditional rules (by capability or kernel) are left out: berth applies the unconditional ones.
    if (includes && Object.keys(includes).length > 0) continue;
    const names = Array.isArray(entry.names) ? (entry.names as string[]) : typeof entry.name === 'string' ? [entry.name] : [];
    if (names.length === 0) continue;
    syscalls.push({
      names, action: entry.action as OciSeccompSyscall['action'],
      ...(typeof entry.errnoRet === 'number' ? { errnoRet: entry.errnoRet } : {}),
      ...(Array.isArray(entry.args) && entry.args.length > 0 ? { args: entry.args as OciSeccompSyscall['args'] } : {}),
    });
  }
  return {
    defaultAction: raw.defaultAction as OciSeccomp['defaultAction'],
    ...(typeof raw.defaultErrnoRet === 'number' ? { defaultErrnoRet: raw.defaultErrnoRet } : {}),
    ...(architectures.length > 0 ? { architectures } : {}),
    syscalls,
  };
}

/** security_opt → noNewPrivileges and seccomp; unknown options (apparmor, label) are accepted and ignored. */
export function securityOptionsOf(options: unknown, workingDir: string, fail: Fail): { noNewPrivileges?: boolean; seccomp?: ContainerSeccomp } {
  const result: { noNewPrivileges?: boolean; seccomp?: ContainerSeccomp } = {};
  for (const option of Array.isArray(options) ? options.map(String) : []) {
    const match = /^([a-z-]+)(?:[=:](.*))?$/.exec(option.trim());
    if (!match) fail('security_opt', `cannot parse "${option}"`, 'write e.g. "no-new-privileges:true" or "seccomp=unconfined"');
    const [, key, value] = match as RegExpExecArray;
    if (key === 'no-new-privileges') result.noNewPrivileges = value === undefined ? true : asBool(value) ?? fail('security_opt', `"${option}": expected true or false`);
    else if (key === 'seccomp') {
      if (!value) fail('security_opt', `"${option}" names no profile`, 'use "seccomp=unconfined" or "seccomp=/path/to/profile.json"');
      else if (value === 'unconfined') result.seccomp = 'unconfined';
      else if (value === 'builtin' || value === 'default') result.seccomp = 'default';
      else result.seccomp = seccompProfileOf(path.resolve(workingDir, value), fail);
    }
  }
  return result;
}

/** `tmpfs:` entries ("/run" or "/run:size=64m,mode=1777") → target → options. */
export function tmpfsOf(value: unknown): Record<string, string> | undefined {
  const list = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  if (list.length === 0) return undefined;
  const result: Record<string, string> = {};
  for (const entry of list) {
    const colon = entry.indexOf(':');
    if (colon < 0) result[entry] = '';
    else result[entry.slice(0, colon)] = entry.slice(colon + 1);
  }
  return result;
}

function tmpfsMode(mode: unknown, fail: Fail, key: string): number | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (typeof mode === 'number') return mode;
  const text = String(mode).trim();
  if (/^0?o?[0-7]+$/.test(text)) return parseInt(text.replace(/^0?o?/, '') || '0', 8);
  return fail(key, `mode "${text}" is not octal`, 'write it like "1777"');
}

/** The hostname the network layer chose (its /etc/hostname file), else the service's, else the id. */
function hostnameOf(input: SpecInput): { hostname: string; domainname?: string } {
  const service = input.service;
  let hostname = typeof service.hostname === 'string' && service.hostname !== '' ? service.hostname : undefined;
  if (!hostname && input.network.files.hostname) {
    try {
      hostname = readFileSync(input.network.files.hostname, 'utf8').trim() || undefined;
    } catch {
      hostname = undefined;
    }
  }
  hostname ??= input.containerId.slice(0, 12);
  let domainname = typeof service.domainname === 'string' && service.domainname !== '' ? service.domainname : undefined;
  if (!domainname && hostname.includes('.')) {
    const dot = hostname.indexOf('.');
    domainname = hostname.slice(dot + 1);
    hostname = hostname.slice(0, dot);
  }
  return { hostname, domainname };
}

/** Creates the working directory inside the rootfs when the image lacks it (resolved safely inside the rootfs). */
function ensureWorkingDir(rootfs: string, dir: string): void {
  const hostPath = resolveInRootfs(rootfs, dir);
  try {
    if (lstatSync(hostPath).isDirectory()) return;
  } catch {
    // missing: create below
  }
  mkdirSync(hostPath, { recursive: true, mode: 0o755 });
}

/** The named/anonymous volumes each anonymous mount target used, read from the volumes' labels. */
export function anonymousVolumesOf(volumes: VolumeManager, names: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of names) {
    const target = volumes.inspect(name)?.labels[anonymousTargetLabel];
    if (target) result[target] = name;
  }
  return result;
}

function normalizeTarget(target: string): string {
  return path.posix.normalize(target).replace(/(.)\/+$/, '$1');
}

/** Builds the container spec for one container of a service. */
export async function buildContainerSpec(input: SpecInput): Promise<BuiltSpec> {
  const { project, image, overrides } = input;
  const service = serviceWithOverrides(input.service, overrides);
  const fail = failer(service);
  const imageConfig = image.config.config ?? {};

  // Process.
  const args = resolveArgs(imageConfig, overrides?.entrypoint ?? service.entrypoint, overrides?.command ?? service.command);
  if (args.length === 0) {
    fail('command', `no command to run: neither the service nor image "${service.image ?? image.refs[0] ?? image.id}" sets one`, 'set "command:" (or "entrypoint:") for the service');
  }
  const env = mergeEnvironment(imageConfig.Env, service.environment, overrides?.env);
  const workingDirText = overrides?.workingDir ?? (typeof service.working_dir === 'string' && service.working_dir !== '' ? service.working_dir : undefined) ?? (imageConfig.WorkingDir || undefined);
  if (workingDirText !== undefined && !workingDirText.startsWith('/')) {
    fail('working_dir', `"${workingDirText}" is not an absolute path`, 'write the container path from "/", e.g. /app');
  }
  const userText = overrides?.user ?? (typeof service.user === 'string' && service.user !== '' ? service.user : undefined) ?? (imageConfig.User || undefined);
  let user: ContainerUser;
  try {
    user = resolveUser(input.rootfs, userText);
  } catch (err) {
    return fail('user', (err as Error).message, (err as { hint?: string }).hint);
  }
  const groupAdd = Array.isArray(service.group_add) ? service.group_add.map(String) : [];
  if (groupAdd.length > 0) {
    const extra = new Set(user.additionalGids ?? []);
    for (const group of groupAdd) {
      try {
        extra.add(resolveUser(input.rootfs, `0:${group}`).gid);
      } catch (err) {
        fail('group_add', (err as Error).message, (err as { hint?: string }).hint);
      }
    }
    user = { ...user, additionalGids: [...extra].sort((a, b) => a - b) };
  }
  if (workingDirText) ensureWorkingDir(input.rootfs, workingDirText);
  const tty = overrides?.tty ?? asBool(service.tty) ?? false;
  const stdinOpen = overrides?.stdinOpen ?? asBool(service.stdin_open) ?? false;

  // Lifecycle.
  const stopSignal = normalizeSignal(typeof service.stop_signal === 'string' && service.stop_signal !== '' ? service.stop_signal : imageConfig.StopSignal || 'SIGTERM');
  const stopGraceMs = asDuration(service.stop_grace_period, 'stop_grace_period', fail) ?? defaultStopGraceMs;
  const restart = input.oneoff ? { name: 'no' as const, maxRetries: 0 } : restartPolicyOf(service);
  const healthcheck = healthcheckOf(service, imageConfig);

  // Mounts.
  const mounts: ContainerMount[] = [];
  const named = new Set<string>();
  const anonymous: string[] = [];
  const serviceMounts = [...(service.volumes ?? [])];
  const overrideTargets = new Set((overrides?.volumes ?? []).map((m) => normalizeTarget(m.target ?? '')));
  const allMounts: Array<{ mount: VolumeMount; key: string }> = [
    ...serviceMounts.map((mount, i) => ({ mount, key: `volumes[${i}]` })).filter(({ mount }) => !overrideTargets.has(normalizeTarget(mount.target ?? ''))),
    ...(overrides?.volumes ?? []).map((mount, i) => ({ mount, key: `run -v[${i}]` })),
  ];
  const anonymousLabels = (target: string): Record<string, string> => ({
    [Labels.project]: project.name, [Labels.service]: service.name, [anonymousVolumeLabel]: '',
    [anonymousTargetLabel]: target, [anonymousContainerLabel]: input.name,
  });
  const populate = async (name: string, target: string, subpath?: string): Promise<void> => {
    await input.volumes.populateFromImage(name, resolveInRootfs(input.rootfs, target), { subpath });
  };
  const anonymousFor = (target: string): string => {
    const inherited = input.inheritAnonymousVolumes?.[target];
    if (inherited && input.volumes.exists(inherited)) return inherited;
    const name = anonymousVolumeName();
    input.volumes.ensure(name, anonymousLabels(target));
    return name;
  };
  for (const { mount, key } of allMounts) {
    if (!mount.target || !mount.target.startsWith('/')) fail(key, `target "${mount.target ?? ''}" is not an absolute container path`, 'write the target from "/", e.g. /data');
    const target = normalizeTarget(mount.target as string);
    const readOnly = asBool(mount.read_only) ?? false;
    switch (mount.type) {
      case 'bind': {
        const source = mount.source;
        if (!source || !source.startsWith('/')) return fail(key, `bind source "${source ?? ''}" is not an absolute host path`, 'relative paths are resolved against the project directory; check the loader output with `berth config`');
        let exists = true;
        try {
          statSync(source);
        } catch {
          exists = false;
        }
        if (!exists) {
          if (asBool(mount.bind?.create_host_path) === true) mkdirSync(source, { recursive: true, mode: 0o755 });
          else {
            fail(key, `bind source path "${source}" does not exist`, `create it (mkdir -p ${source}), or set "bind: { create_host_path: true }" so berth creates it`);
          }
        }
        const options: string[] = [];
        if (mount.bind?.propagation) options.push(mount.bind.propagation);
        mounts.push({ type: 'bind', source, target, readOnly, ...(options.length ? { options } : {}) });
        break;
      }
      case 'volume': {
        const subpath = mount.volume?.subpath;
        let name: string;
        if (mount.source) {
          const volume = project.volumes.get(mount.source);
          name = volume?.name ?? mount.source;
          if (!input.volumes.exists(name)) {
            if (volume?.external) fail(key, `external volume "${name}" not found`, `create it first, or remove "external: true" from volume "${mount.source}"`);
            input.volumes.ensure(name, { ...(volume?.labels ?? {}), [Labels.project]: project.name, [Labels.volume]: mount.source });
          }
          named.add(name);
        } else {
          name = anonymousFor(target);
          anonymous.push(name);
        }
        let source = input.volumes.path(name);
        if (subpath) {
          const resolved = resolveInRootfs(source, subpath);
          try {
            if (!statSync(resolved).isDirectory() && !statSync(resolved).isFile()) throw new Error('not a file or directory');
          } catch {
            fail(`${key}.volume.subpath`, `subpath "${subpath}" does not exist in volume "${name}"`, `create it inside the volume first, e.g. with \`berth run\` and mkdir -p`);
          }
          source = resolved;
        }
        if (asBool(mount.volume?.nocopy) !== true) await populate(name, target, subpath);
        mounts.push({ type: 'bind', source, target, readOnly });
        break;
      }
      case 'tmpfs': {
        const size = asBytes(mount.tmpfs?.size, `${key}.tmpfs.size`, fail);
        const mode = tmpfsMode(mount.tmpfs?.mode, fail, `${key}.tmpfs.mode`);
        mounts.push({ type: 'tmpfs', target, readOnly, ...(size !== undefined && size > 0 ? { tmpfsSize: size } : {}), ...(mode !== undefined ? { tmpfsMode: mode } : {}) });
        break;
      }
      default:
        fail(key, `mount type "${mount.type}" is not supported by berth`, 'use "bind", "volume" or "tmpfs"');
    }
  }
  // volumes_from: the other containers' volumes and bind mounts, where the service has none.
  for (const shared of input.volumesFrom ?? []) {
    const target = normalizeTarget(shared.target);
    if (mounts.some((m) => m.target === target)) continue;
    mounts.push({ type: 'bind', source: shared.source, target, readOnly: shared.readOnly });
    if (shared.volume) named.add(shared.volume);
  }
  // The image's VOLUMEs that no mount covers get a fresh anonymous volume.
  const covered = new Set(mounts.map((m) => m.target));
  const tmpfs = tmpfsOf(service.tmpfs);
  for (const target of Object.keys(tmpfs ?? {})) covered.add(normalizeTarget(target));
  for (const volumePath of Object.keys(imageConfig.Volumes ?? {}).sort()) {
    const target = normalizeTarget(volumePath);
    if (covered.has(target)) continue;
    const name = anonymousFor(target);
    anonymous.push(name);
    await populate(name, target);
    mounts.push({ type: 'bind', source: input.volumes.path(name), target });
    covered.add(target);
  }
  for (const file of prepareServiceFiles(project, service, input.stateDir)) mounts.push(file.mount);
  const files = input.network.files;
  for (const [target, source] of [['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf], ['/etc/hostname', files.hostname]] as const) {
    if (source && !covered.has(target)) mounts.push({ type: 'bind', source, target });
  }

  // Network and namespaces.
  let network: ContainerSpec['network'];
  if (input.network.mode === 'host') network = 'host';
  else if (input.network.netnsPath) network = { path: input.network.netnsPath };
  else network = 'none';

  const { hostname, domainname } = hostnameOf(input);
  const security = securityOptionsOf(service.security_opt, project.workingDir, fail);
  const logging = record(service.logging);
  const logOptions = record(logging?.options) ?? {};
  const maxSize = asBytes(logOptions['max-size'], 'logging.options.max-size', fail);
  const maxFile = asNumber(logOptions['max-file'], 'logging.options.max-file', fail);
  const sysctls = record(service.sysctls);
  const labels = { ...input.labels, ...(overrides?.labels ?? {}) };
  const annotations = record(service.annotations) as Record<string, string> | undefined;
  const oomScoreAdj = asNumber(service.oom_score_adj, 'oom_score_adj', fail);
  const shmSize = asBytes(service.shm_size, 'shm_size', fail);
  const cgroup = service.cgroup === 'host' || service.cgroup === 'private' ? service.cgroup : undefined;

  const spec: ContainerSpec = {
    id: input.containerId,
    rootfs: input.rootfs,
    args,
    env,
    ...(workingDirText ? { cwd: workingDirText } : {}),
    user,
    hostname,
    ...(domainname ? { domainname } : {}),
    tty,
    stdin: stdinOpen,
    init: asBool(service.init) ?? false,
    readOnly: asBool(service.read_only) ?? false,
    mounts,
    ...(tmpfs ? { tmpfs } : {}),
    ...(shmSize !== undefined && shmSize > 0 ? { shmSize } : {}),
    ...(Array.isArray(service.cap_add) ? { capAdd: service.cap_add.map(String) } : {}),
    ...(Array.isArray(service.cap_drop) ? { capDrop: service.cap_drop.map(String) } : {}),
    privileged: asBool(service.privileged) ?? false,
    ...security,
    ...(sysctls && Object.keys(sysctls).length > 0 ? { sysctls: Object.fromEntries(Object.entries(sysctls).map(([k, v]) => [k, String(v)])) } : {}),
    ...(service.ulimits ? { ulimits: ulimitsOf(service.ulimits, fail) } : {}),
    ...(oomScoreAdj !== undefined ? { oomScoreAdj } : {}),
    devices: devicesOf(service.devices, fail),
    resources: resourcesOf(service, fail),
    network,
    ipcHost: service.ipc === 'host',
    pidHost: service.pid === 'host',
    ...(cgroup ? { cgroupns: cgroup } : {}),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    labels,
    ...(logging?.driver === 'none' ? {} : { log: { path: input.logPath, ...(maxSize !== undefined ? { maxSize } : {}), ...(maxFile !== undefined ? { maxFile } : {}) } }),
    ...(typeof service.cgroup_parent === 'string' && service.cgroup_parent !== '' ? { cgroupParent: service.cgroup_parent } : {}),
  };

  return {
    spec,
    args,
    env,
    ...(workingDirText ? { workingDir: workingDirText } : {}),
    ...(userText ? { user: userText } : {}),
    tty,
    stdinOpen,
    stopSignal,
    stopGraceMs,
    restart,
    ...(healthcheck ? { healthcheck } : {}),
    volumes: [...named].sort(),
    anonymousVolumes: anonymous,
  };
}
