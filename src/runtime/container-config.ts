/**
 * ContainerSpec: what one container is, at the runtime level. It knows nothing about compose
 * files or images: the engine fills it from a Service and an unpacked rootfs, and toOciSpec()
 * turns it into config.json. Every field except id, rootfs and args is optional and defaults to
 * what `docker run` would do.
 */
import type { OciHooks, OciSeccomp } from './oci-types.js';

/** A resolved user: numeric ids, as the kernel needs them. */
export interface ContainerUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  /** Home directory from /etc/passwd; becomes HOME when the environment has none. */
  home?: string;
}

/** One mount into the container. Named volumes arrive here as binds of their host directory. */
export interface ContainerMount {
  type: 'bind' | 'tmpfs' | 'volume';
  /** Host path for bind/volume; ignored for tmpfs. */
  source?: string;
  target: string;
  readOnly?: boolean;
  /** Extra mount options (e.g. "nosuid", "rprivate", "mode=1777"). */
  options?: string[];
  /** tmpfs size in bytes. */
  tmpfsSize?: number;
  /** tmpfs mode, e.g. 0o1777. */
  tmpfsMode?: number;
}

/** One device node made available to the container (`devices:` in compose). */
export interface ContainerDevice {
  /** Path inside the container. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Cgroup access: any of "rwm". */
  access?: string;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** Cgroup limits (bytes, microseconds, shares) as compose and `docker run` spell them. */
export interface ContainerResources {
  memory?: number;
  memoryReservation?: number;
  /** Memory + swap, like `--memory-swap`; -1 for unlimited swap. */
  memorySwap?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
}

/** One ulimit; `soft`/`hard` of -1 mean unlimited. */
export interface ContainerUlimit {
  soft: number;
  hard: number;
}

/** Where and how much the per-container monitor logs (Docker json-file format). */
export interface ContainerLogOptions {
  path: string;
  /** Rotate at this many bytes. */
  maxSize?: number;
  /** Keep this many files, rotation included. */
  maxFile?: number;
}

/** The network namespace: a fresh one with only loopback ('none'), the host's, or join a path. */
export type ContainerNetwork = 'none' | 'host' | { path: string };

/** The seccomp policy: Docker's default, none, or a profile in the OCI `linux.seccomp` shape. */
export type ContainerSeccomp = 'default' | 'unconfined' | OciSeccomp;

/** Everything the runtime needs to know about one container. */
export interface ContainerSpec {
  /** Container id: [A-Za-z0-9][A-Za-z0-9_.-]*, unique under the runtime root. */
  id: string;
  /** Absolute path to the unpacked root filesystem. */
  rootfs: string;
  /** Command and arguments (entrypoint + command, already joined). */
  args: string[];
  /** KEY=value entries; PATH is added when missing. */
  env?: string[];
  cwd?: string;
  /**
   * The user: numeric ids, or a `user:` string. toOciSpec takes "uid" and "uid:gid" as they
   * are; names ("app", "app:staff") need the image's /etc/passwd, so run resolveSpecUser()
   * (or resolveUser()) first.
   */
  user?: ContainerUser | string;
  hostname?: string;
  domainname?: string;
  tty?: boolean;
  /** Keep stdin open (compose `stdin_open`). */
  stdin?: boolean;
  /** Run a tiny init as PID 1 that reaps zombies and forwards signals (compose `init: true`). */
  init?: boolean;
  readOnly?: boolean;
  mounts?: ContainerMount[];
  /** Extra tmpfs mounts: target → options string ("size=64m,mode=1777"). */
  tmpfs?: Record<string, string>;
  /** Size of /dev/shm in bytes (default 64 MiB, like Docker). */
  shmSize?: number;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  noNewPrivileges?: boolean;
  seccomp?: ContainerSeccomp;
  sysctls?: Record<string, string>;
  /** Name (e.g. "nofile" or "RLIMIT_NOFILE") → limits. */
  ulimits?: Record<string, ContainerUlimit>;
  oomScoreAdj?: number;
  devices?: ContainerDevice[];
  resources?: ContainerResources;
  network?: ContainerNetwork;
  /** Share the host's IPC / PID namespaces (compose `ipc: host`, `pid: host`). */
  ipcHost?: boolean;
  pidHost?: boolean;
  /** Cgroup namespace: 'private' (default, hides the host's cgroup paths) or 'host'. */
  cgroupns?: 'private' | 'host';
  /** OCI annotations; berth's own `run.berth.*` ones are added by toOciSpec(). */
  annotations?: Record<string, string>;
  /** Container labels (project, service, config hash), stored as `berth.label.<key>` annotations. */
  labels?: Record<string, string>;
  log?: ContainerLogOptions;
  hooks?: OciHooks;
  /** Cgroup parent; the container's cgroup is `<parent>/<id>` (default parent "/berth"). */
  cgroupParent?: string;
}
