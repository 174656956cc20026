/**
 * The Project: the one hand-off between loading and doing. Attribute names and shapes are the
 * canonical long forms `docker compose config --format json` prints, so what users see in
 * `berth config` is exactly what the engine gets. Entities also carry metadata that is never
 * printed (`name`/`key`, `source`); `toComposeDocument()` strips it.
 */
import type { SourceRef } from '../errors.js';

export type { SourceRef } from '../errors.js';

/** A published or exposed port, long syntax; one entry per port (ranges are expanded). */
export interface PortConfig {
  readonly name?: string;
  readonly mode: string;
  readonly host_ip?: string;
  readonly target: number;
  /** Host port or host port range as a string (compose prints it quoted); absent: picked at run time. */
  readonly published?: string;
  readonly protocol: string;
  readonly app_protocol?: string;
}

/** One mount of a service, long syntax; bind sources are absolute after path resolution. */
export interface VolumeMount {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  readonly source?: string;
  readonly target?: string;
  readonly read_only?: boolean;
  readonly consistency?: string;
  readonly bind?: { readonly propagation?: string; readonly create_host_path?: boolean; readonly selinux?: string };
  readonly volume?: { readonly nocopy?: boolean; readonly subpath?: string };
  readonly tmpfs?: { readonly size?: number | string; readonly mode?: number };
  readonly image?: { readonly subpath?: string };
}

/** Condition a dependency must reach before the dependent starts. */
export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

/** One `depends_on` entry, long syntax. `required: false` lets the dependent start without it. */
export interface ServiceDependency {
  readonly condition: DependencyCondition;
  readonly restart?: boolean;
  readonly required: boolean;
}

/** How a service joins one network; `null` in the map means "joined, no options". */
export interface ServiceNetwork {
  readonly aliases?: readonly string[];
  readonly ipv4_address?: string;
  readonly ipv6_address?: string;
  readonly link_local_ips?: readonly string[];
  readonly mac_address?: string;
  readonly priority?: number;
  readonly gw_priority?: number;
  readonly driver_opts?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}

/** `build`, long syntax; `context` is absolute after path resolution (unless it is a URL). */
export interface BuildConfig {
  readonly context: string;
  readonly dockerfile?: string;
  readonly dockerfile_inline?: string;
  readonly args?: Readonly<Record<string, string | null>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly [key: string]: unknown;
}

/** A service secret or config reference, long syntax. */
export interface FileReference {
  readonly source: string;
  readonly target?: string;
  readonly uid?: string;
  readonly gid?: string;
  readonly mode?: number | string;
}

/** `healthcheck`; `test` is always a list (`["CMD-SHELL", "..."]` for the string form). */
export interface HealthCheck {
  readonly test?: readonly string[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: number;
  readonly start_period?: string;
  readonly start_interval?: string;
  readonly disable?: boolean;
}

/**
 * Every compose service attribute in canonical long form. Attributes berth has no special
 * shape for pass through unchanged (hence the index signature); `x-` keys are kept too.
 */
export interface ServiceSpec {
  readonly image?: string;
  readonly build?: BuildConfig;
  readonly command?: readonly string[] | null;
  readonly entrypoint?: readonly string[] | null;
  readonly environment?: Readonly<Record<string, string>>;
  readonly ports?: readonly PortConfig[];
  readonly expose?: readonly string[];
  readonly volumes?: readonly VolumeMount[];
  readonly volumes_from?: readonly string[];
  readonly depends_on?: Readonly<Record<string, ServiceDependency>>;
  readonly links?: readonly string[];
  readonly networks?: Readonly<Record<string, ServiceNetwork | null>>;
  readonly network_mode?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly extra_hosts?: readonly string[];
  readonly secrets?: readonly FileReference[];
  readonly configs?: readonly FileReference[];
  readonly healthcheck?: HealthCheck;
  readonly profiles?: readonly string[];
  readonly restart?: string;
  readonly scale?: number;
  readonly deploy?: Readonly<Record<string, unknown>>;
  readonly user?: string;
  readonly working_dir?: string;
  readonly hostname?: string;
  readonly container_name?: string;
  readonly pid?: string;
  readonly ipc?: string;
  readonly userns_mode?: string;
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly dns?: readonly string[];
  readonly dns_search?: readonly string[];
  readonly tmpfs?: readonly string[];
  readonly [key: string]: unknown;
}

/** A service: its compose attributes plus name and the place it was defined. */
export interface Service extends ServiceSpec {
  /** The key under `services:` (not printed). */
  readonly name: string;
  /** Where the service was defined (not printed). */
  readonly source: SourceRef;
}

/** A top-level network; `name` is the real network name (`<project>_<key>` unless external or named). */
export interface Network {
  readonly key: string;
  readonly name: string;
  readonly driver?: string;
  readonly driver_opts?: Readonly<Record<string, string>>;
  readonly ipam: Readonly<Record<string, unknown>>;
  readonly external?: boolean;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly enable_ipv6?: boolean;
  readonly source: SourceRef;
  readonly [key: string]: unknown;
}

/** A top-level named volume; `name` is the real volume name. */
export interface Volume {
  readonly key: string;
  readonly name: string;
  readonly driver?: string;
  readonly driver_opts?: Readonly<Record<string, string>>;
  readonly external?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly source: SourceRef;
  readonly [key: string]: unknown;
}

/** A top-level secret: from a file (absolute path), an environment variable, or external. */
export interface Secret {
  readonly key: string;
  readonly name: string;
  readonly file?: string;
  readonly environment?: string;
  readonly external?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly source: SourceRef;
  readonly [key: string]: unknown;
}

/** A top-level config: like a secret, plus inline `content`. */
export interface Config extends Secret {
  readonly content?: string;
}

/** One contiguous id range mapped into a user namespace (for rootless operation later). */
export interface IdMapping {
  readonly containerId: number;
  readonly hostId: number;
  readonly size: number;
}

/** The uid/gid mappings a project runs with; absent means the identity mapping (running as root). */
export interface IdMappings {
  readonly uids: readonly IdMapping[];
  readonly gids: readonly IdMapping[];
}

/** The typed, read-only compose project every command works on. */
export interface Project {
  readonly name: string;
  /** Absolute project directory. */
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  /** Environment files that fed interpolation. */
  readonly envFiles: readonly string[];
  /** Interpolation environment (process env over .env files). */
  readonly environment: Readonly<Record<string, string>>;
  /** Services enabled by the active profiles, by name. */
  readonly services: ReadonlyMap<string, Service>;
  /** Services defined but not enabled by the active profiles (kept so `down` can find them). */
  readonly disabledServices: ReadonlyMap<string, Service>;
  readonly networks: ReadonlyMap<string, Network>;
  readonly volumes: ReadonlyMap<string, Volume>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly configs: ReadonlyMap<string, Config>;
  /** Every profile any service names, sorted. */
  readonly profiles: readonly string[];
  /** Profiles in effect (`*` means all). */
  readonly activeProfiles: readonly string[];
  /** Top-level `x-` keys. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** uid/gid mappings for rootless runs; undefined while berth runs as root. */
  readonly idMappings?: IdMappings;
  /** Positions of values in the compose files, for error messages and `--explain`. */
  readonly sourceOf: (path: readonly (string | number)[]) => SourceRef | undefined;
}
