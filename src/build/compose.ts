/**
 * Builds the images of a compose project's services from their `build:` sections. A service
 * image is named by `image:` or `<project>-<service>`; `additional_contexts` may name another
 * service (`service:<name>`), which is then built first.
 */
import type { EngineEvent, EventSink } from '../engine/types.js';
import type { ImageStore } from '../images/store/index.js';
import type { Project, Service } from '../model/types.js';
import type { RuntimeDriver } from '../runtime/index.js';
import { buildImage, type AdditionalContext, type BuildResult } from './builder.js';
import { BuildError } from './errors.js';
import { parseByteSize as parseComposeByteSize } from '../validate/syntax/units.js';

/** Options of buildServices (CLI flags of `berth build`, `up --build`). */
export interface BuildServicesOptions {
  noCache?: boolean;
  pull?: boolean;
  /** `--build-arg` values; they win over `build.args`. undefined: take from the environment. */
  buildArgs?: Record<string, string | undefined>;
  /** Progress lines, one call per line; default: stderr as `<service> <line>`. */
  log?: (service: string, line: string) => void;
  /** Build progress events (`image` build/built). */
  events?: EventSink;
  env?: NodeJS.ProcessEnv;
  /** Lets `RUN --network=host` use the host's network (`--allow network.host`). */
  allowHostNetwork?: boolean;
  store?: ImageStore;
  driver?: RuntimeDriver;
}

/** The image a service runs: `image:` when set, otherwise `<project>-<service>` (as Docker Compose names it). */
export function serviceImageName(project: Pick<Project, 'name'>, service: Pick<Service, 'name' | 'image'>): string {
  return service.image ?? `${project.name}-${service.name}`;
}

/** True when the service is built rather than pulled. */
export function hasBuild(service: Service): boolean {
  return service.build !== undefined && service.build !== null;
}

/** `1g`, `512m`, `64k`, `1024` → bytes (the compose file's size syntax), as a BuildError naming `what`. */
export function parseByteSize(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return parseComposeByteSize(typeof value === 'number' ? value : String(value));
  } catch (err) {
    throw new BuildError(`${what}: ${(err as Error).message}`, { hint: 'write a number of bytes or a size like 64m or 1g' });
  }
}

/**
 * Builds the images of `services` (names; all services with `build:` when empty or undefined).
 * Services without `build:` are skipped. Returns the build result per service built.
 */
export async function buildServices(project: Project, services: readonly string[] | undefined, options: BuildServicesOptions = {}): Promise<Map<string, BuildResult>> {
  const wanted = services && services.length > 0 ? services : [...project.services.keys()];
  for (const name of wanted) {
    if (!project.services.has(name)) {
      throw new BuildError(`no such service: "${name}"`, { hint: `services are ${[...project.services.keys()].map((key) => `"${key}"`).join(', ')}` });
    }
  }
  const log = options.log ?? ((service: string, line: string) => process.stderr.write(`${service} ${line}\n`));
  const emit = (event: EngineEvent) => options.events?.(event);
  const results = new Map<string, BuildResult>();
  const running = new Map<string, Promise<BuildResult>>();
  const byImage = new Map<string, Promise<BuildResult>>();

  const build = (name: string, chain: readonly string[]): Promise<BuildResult> => {
    const existing = running.get(name);
    if (existing) return existing;
    if (chain.includes(name)) throw new BuildError(`services ${[...chain, name].join(' -> ')} depend on each other through additional_contexts`, { hint: 'remove the cycle' });
    const service = project.services.get(name) ?? project.disabledServices.get(name);
    if (!service || !hasBuild(service)) {
      throw new BuildError(`service "${chain[chain.length - 1]}" uses "service:${name}" as a build context, but "${name}" has no build section`, { hint: `add build: to service "${name}"` });
    }
    const image = serviceImageName(project, service);
    const shared = byImage.get(image);
    if (shared) return shared;
    const promise = (async () => {
      const config = service.build as NonNullable<Service['build']>;
      const additional: Record<string, AdditionalContext> = {};
      const contexts = (config.additional_contexts ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(contexts)) {
        if (value.startsWith('service:')) {
          const other = value.slice('service:'.length);
          await build(other, [...chain, name]);
          additional[key] = { image: serviceImageName(project, project.services.get(other) ?? (project.disabledServices.get(other) as Service)) };
        } else if (value.startsWith('docker-image://')) {
          additional[key] = { image: value.slice('docker-image://'.length) };
        } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
          throw new BuildError(`service "${name}": additional context "${key}" (${value}) is remote`, { hint: 'berth supports local directories, service:<name> and docker-image://<ref>' });
        } else {
          additional[key] = { dir: value };
        }
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(config.context) || config.context.startsWith('git@')) {
        throw new BuildError(`service "${name}": remote build context "${config.context}" is not supported`, { hint: 'clone it and point build.context at the directory' });
      }
      const buildArgs: Record<string, string | null | undefined> = {};
      for (const [key, value] of Object.entries(config.args ?? {})) buildArgs[key] = value === null ? undefined : value;
      for (const [key, value] of Object.entries(options.buildArgs ?? {})) buildArgs[key] = value;
      const tags = [image, ...((config.tags as string[] | undefined) ?? [])];
      emit({ type: 'image', action: 'build', service: name, image, time: Date.now() });
      log(name, `Building ${image}`);
      const result = await buildImage({
        context: config.context,
        dockerfile: config.dockerfile,
        dockerfileInline: config.dockerfile_inline,
        target: config.target,
        buildArgs,
        labels: config.labels as Record<string, string> | undefined,
        tags,
        noCache: options.noCache || config.no_cache === true,
        pull: options.pull || config.pull === true,
        network: config.network as string | undefined,
        allowHostNetwork: options.allowHostNetwork,
        extraHosts: config.extra_hosts as string[] | undefined,
        shmSize: parseByteSize(config.shm_size, `service "${name}" build.shm_size`),
        additionalContexts: additional,
        store: options.store,
        driver: options.driver,
        env: options.env,
        log: (line) => log(name, line),
      });
      log(name, `Built ${image} ${result.id.slice(0, 19)}`);
      emit({ type: 'image', action: 'built', service: name, image, time: Date.now() });
      results.set(name, result);
      return result;
    })();
    running.set(name, promise);
    byImage.set(image, promise);
    return promise;
  };

  const all = wanted.filter((name) => hasBuild(project.services.get(name) as Service)).map((name) => build(name, []));
  const settled = await Promise.allSettled(all);
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return results;
}
