/**
 * The engine's shared contract: how a container of a project is recorded on disk, what the
 * engine observes about it, the events it emits, and the interface of the network layer. Every
 * other engine module (reconciler, container spec builder, supervisor, logs, network, CLI) codes
 * against these types; change them only with care.
 *
 * On-disk layout (all writes are atomic: write to a temp file, then rename):
 *   <stateRoot>/projects/<project>/project.json          ProjectRecord
 *   <stateRoot>/projects/<project>/lock                  per-project lock
 *   <stateRoot>/projects/<project>/containers/<name>/record.json   ContainerRecord (written at create)
 *   <stateRoot>/projects/<project>/containers/<name>/run.json      ContainerRunInfo (mutable)
 *   <stateRoot>/projects/<project>/containers/<name>/bundle/       OCI bundle (config.json)
 *   <stateRoot>/projects/<project>/containers/<name>/<name>-json.log  json-file log (+ .1, .2 rotations)
 *   <stateRoot>/images/containers/<id>/                  rootfs (prepareContainerRootfs)
 *   <stateRoot>/volumes/<volume>/_data + volume.json     named volumes
 *   <stateRoot>/networks/<network>.json                  networks (network layer)
 *   <runRoot>/projects/<project>/                        supervisor pid/socket, events
 */
import type { Project, Service, PortConfig, ServiceNetwork } from '../model/types.js';

/** Label keys, the same as Docker Compose's so tools that read them keep working. */
export const Labels = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  image: 'com.docker.compose.image',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  dependsOn: 'com.docker.compose.depends_on',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/** What berth remembers of a project (for `ls` and for commands run outside the project dir). */
export interface ProjectRecord {
  name: string;
  workingDir: string;
  configFiles: string[];
  /** ISO time of the last `up`/`create`. */
  updated: string;
}

/** A resolved healthcheck, durations in milliseconds. */
export interface HealthcheckSpec {
  /** ["CMD", ...] or ["CMD-SHELL", "..."]. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

/** The restart policy of a container (compose `restart` or `deploy.restart_policy`). */
export interface RestartPolicy {
  name: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  /** on-failure[:max]; 0 means unlimited. */
  maxRetries: number;
}

/** One published port as actually bound on the host. */
export interface PublishedPort {
  target: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** Where a container is on one network. */
export interface NetworkAddress {
  /** Real network name (e.g. `myproj_default`). */
  network: string;
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  /** Names this container answers to on this network (service, container name, hostname, aliases, links). */
  aliases: string[];
}

/** What the network layer did for one container; stored in the record. */
export interface NetworkAttachment {
  /** 'bridge' (own namespace on project networks), 'host', 'none', or a namespace shared with another container. */
  mode: 'bridge' | 'host' | 'none' | 'shared';
  /** Network namespace the container joins (absent for 'host'; for 'none' a fresh one). */
  netnsPath?: string;
  /** For 'shared': the container whose namespace is used. */
  sharedWith?: string;
  addresses: NetworkAddress[];
  ports: PublishedPort[];
  /** Host files to bind-mount at /etc/hosts, /etc/resolv.conf, /etc/hostname (absent: leave the image's). */
  files: { hosts?: string; resolvConf?: string; hostname?: string };
}

/** A compose lifecycle hook (`post_start`, `pre_stop`), run as an exec in the container. */
export interface ContainerHook {
  command: string[];
  user?: string;
  privileged: boolean;
  workingDir?: string;
  /** KEY=VAL entries added to the container's environment. */
  env: string[];
}

/** Written once when a container is created; never changed afterwards (recreate writes a new one). */
export interface ContainerRecord {
  /** Runtime id: the container name. */
  id: string;
  /** `<project>-<service>-<n>`, `container_name`, or `<project>-<service>-run-<hex>` for one-offs. */
  name: string;
  project: string;
  service: string;
  /** Replica number, from 1. */
  number: number;
  oneoff: boolean;
  /** Labels: the service's own plus berth's (Labels.*). */
  labels: Record<string, string>;
  configHash: string;
  /** The service's canonical document at creation (serviceDocument, json form) for field-level diffs. */
  serviceConfig: Record<string, unknown>;
  /** Image as the compose file names it. */
  image: string;
  /** Manifest digest of the image the container was created from. */
  imageDigest: string;
  /** Image id (config digest) it was created from: image gc keeps its layers while the container exists. */
  imageId?: string;
  /** ISO creation time. */
  created: string;
  bundle: string;
  logPath: string;
  rootfs: string;
  /** The process: entrypoint + command, resolved against the image. */
  args: string[];
  env: string[];
  workingDir?: string;
  user?: string;
  tty: boolean;
  stdinOpen: boolean;
  stopSignal: string;
  stopGraceMs: number;
  restart: RestartPolicy;
  healthcheck?: HealthcheckSpec;
  network: NetworkAttachment;
  /** Names of services this one depends on, with their conditions (for restarts with `restart: true`). */
  dependsOn: Record<string, { condition: string; restart: boolean; required: boolean }>;
  /** Named volumes mounted (real names), for `down -v` and `rm -v` of anonymous ones. */
  volumes: string[];
  /** Anonymous volumes created for this container (removed by `rm -v`, renewed by `up -V`). */
  anonymousVolumes: string[];
  /**
   * The OCI runtime binary the container was created with (`--runtime`); every later command on
   * it uses this one. Absent in records written before berth recorded it: the default runtime.
   */
  runtime?: string;
  /** post_start hooks (run after every start by a berth command) and pre_stop hooks (before the stop signal). Absent: none. */
  hooks?: { postStart?: ContainerHook[]; preStop?: ContainerHook[] };
  /**
   * Namespaces joined from other containers (`ipc`/`pid: service:x` or `container:x`): the
   * container's name; the path (/proc/<pid>/ns/<type>) is resolved again at every start.
   */
  joinNamespaces?: Array<{ type: 'ipc' | 'pid'; container: string }>;
}

/** Health as the supervisor last saw it. */
export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  /** Last few probe results, newest last. */
  log: Array<{ start: string; end: string; exitCode: number; output: string }>;
}

/** Mutable facts of a container, rewritten atomically by the engine and the supervisor. */
export interface ContainerRunInfo {
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Stopped by a berth command (stop, down, kill): restart policies other than `always` leave it stopped. */
  stoppedByUser?: boolean;
  health?: HealthState;
  /** Set while the supervisor waits to restart it (backoff). */
  restartingAt?: string;
}

/** Status as `ps` shows it (Docker's words). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';

/** A container as observed now: its record, run info and the runtime's live state. */
export interface ObservedContainer {
  record: ContainerRecord;
  run: ContainerRunInfo;
  status: ContainerStatus;
  /** Host pid of the container's process while running. */
  pid?: number;
  exitCode?: number;
}

/** What the reconciler does to one container (or replica slot). */
export type ActionKind = 'create' | 'recreate' | 'start' | 'stop' | 'remove' | 'noop';

/** One planned action, with the reasons a user sees in `up --dry-run` and in `up`'s output. */
export interface PlannedAction {
  kind: ActionKind;
  service: string;
  /** Container name the action produces or touches. */
  name: string;
  number: number;
  /** Field-level reasons, e.g. `environment.LOG_LEVEL changed "info" -> "debug"`, `image changed`. */
  reasons: string[];
}

/** Events the engine emits (progress reporters, `events`, the timeline, the JS API). */
export type EngineEvent =
  | { type: 'network'; action: 'create' | 'remove'; name: string; time: number }
  | { type: 'volume'; action: 'create' | 'remove'; name: string; time: number }
  | { type: 'image'; action: 'pull' | 'pulled' | 'build' | 'built'; service: string; image: string; time: number }
  | { type: 'container'; action: 'creating' | 'created' | 'recreate' | 'starting' | 'started' | 'healthy' | 'unhealthy' | 'exited' | 'stopping' | 'stopped' | 'removing' | 'removed' | 'restarting' | 'killed' | 'paused' | 'unpaused' | 'waiting';
      service: string; name: string; time: number; reasons?: string[]; exitCode?: number; detail?: string }
  | { type: 'plan'; actions: PlannedAction[]; orphans: string[]; time: number };

/** Sink for engine events. */
export type EventSink = (event: EngineEvent) => void;

/** A request to the network layer to set up one container's networking. */
export interface AttachRequest {
  project: Project;
  service: Service;
  containerId: string;
  containerName: string;
  /** The service's `hostname` or the container id's short form. */
  hostname: string;
  domainname?: string;
  /** Directory of the container's state (for hosts/resolv.conf/hostname files). */
  stateDir: string;
  /** For network_mode service:x / container:x — the netns path of that container. */
  resolveShared?: (target: { service?: string; container?: string }) => Promise<{ id: string; netnsPath: string }>;
}

/** The network layer, as the engine uses it. */
export interface NetworkProvider {
  /** Checks then creates the project's networks that do not exist (bridges, subnets); nothing is made when a check fails. */
  ensureNetworks(project: Project, networkKeys: readonly string[], events?: EventSink): Promise<void>;
  /** Creates the container's namespace, veths, addresses, DNS registration and port rules. */
  attach(request: AttachRequest): Promise<NetworkAttachment>;
  /** Undoes attach; idempotent; never fails on missing pieces. */
  detach(containerId: string, attachment: NetworkAttachment): Promise<void>;
  /** Removes the project's networks that no container uses any more (not external ones). */
  removeNetworks(project: { name: string; networks?: Project['networks'] }, events?: EventSink): Promise<void>;
}

/** Re-exported for modules that only need the compose side. */
export type { Project, Service, PortConfig, ServiceNetwork };
