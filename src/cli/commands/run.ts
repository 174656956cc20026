/**
 * `berth run SERVICE [COMMAND] [ARGS...]`: a one-off container of a service, named
 * `<project>-<service>-run-<hex>` and labelled oneoff=True. Its dependencies are started first
 * (unless --no-deps); attached, it gets berth's stdin/stdout (a TTY when they are terminals) and
 * berth exits with the container's exit code.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { BerthError, UsageError } from '../../errors.js';
import { serviceWithOverrides, type RunOverrides } from '../../engine/container-spec.js';
import { ensureServiceImages } from '../../engine/apply.js';
import { Engine } from '../../engine/engine.js';
import { runAttached } from '../../engine/exec.js';
import { usesProjectDns } from '../../engine/lifecycle.js';
import type { PortConfig, Project, Service, VolumeMount } from '../../model/types.js';
import { splitShellWords } from '../../model/shell-words.js';
import { loadProject, projectOptionsFromFlags } from '../../project/index.js';
import { parsePortSpec, parseVolumeSpec } from '../../validate/syntax/index.js';
import { globalOptions } from '../global-options.js';
import { environmentFlags } from './exec.js';

interface RunFlags {
  rm?: boolean; detach?: boolean; env: string[]; volume: string[]; publish: string[]; entrypoint?: string; deps: boolean; tty: boolean;
  name?: string; servicePorts?: boolean; workdir?: string; user?: string; label: string[]; interactive: boolean; build?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `-v` strings → long-syntax mounts; relative bind sources are taken from the project directory. */
export function runVolumes(specs: readonly string[], projectDir: string): VolumeMount[] {
  return specs.map((spec) => {
    let parsed;
    try {
      parsed = parseVolumeSpec(spec);
    } catch (err) {
      throw new UsageError(`invalid volume "${spec}": ${(err as Error).message}`, { hint: 'use SOURCE:TARGET[:ro], e.g. -v ./data:/data' });
    }
    if (parsed.type === 'bind' && parsed.source) {
      const source = parsed.source.startsWith('~') ? path.join(process.env.HOME ?? '/', parsed.source.slice(1)) : path.resolve(projectDir, parsed.source);
      return { ...parsed, source } as VolumeMount;
    }
    return parsed as VolumeMount;
  });
}

/** `-p` strings → long-syntax ports. */
export function runPorts(specs: readonly string[]): PortConfig[] {
  return specs.flatMap((spec) => {
    try {
      return parsePortSpec(spec);
    } catch (err) {
      throw new UsageError(`invalid port "${spec}": ${(err as Error).message}`, { hint: 'use [IP:][HOST:]CONTAINER[/PROTOCOL], e.g. -p 8080:80' });
    }
  });
}

/** The project networks a (one-off) service joins: none with network_mode, else its networks or "default". */
function oneoffNetworkKeys(project: Project, service: Service): string[] {
  if (service.network_mode) return [];
  return Object.keys(service.networks ?? { default: null }).filter((key) => project.networks.has(key));
}

/** Registers `berth run`. */
export function registerRun(program: Command): void {
  program
    .command('run <service> [command...]')
    .description('run a one-off command on a service')
    .passThroughOptions()
    .option('-d, --detach', 'run the container in the background and print its name')
    .option('--rm', 'remove the container when it exits')
    .option('-e, --env <KEY=VAL>', 'set an environment variable (repeatable)', collect, [])
    .option('-v, --volume <mount>', 'bind mount or volume (repeatable)', collect, [])
    .option('-p, --publish <port>', "publish a container's port to the host (repeatable)", collect, [])
    .option('--service-ports', "publish the service's ports as configured")
    .option('--entrypoint <cmd>', "override the image's entrypoint")
    .option('--no-deps', "don't start linked services")
    .option('--build', 'build the image before starting the container')
    .option('-T, --no-tty', 'do not allocate a pseudo-TTY (default: allocate one when stdin is a terminal)')
    .option('-i, --interactive', 'keep stdin open (default)', true)
    .option('--name <name>', 'name of the container')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'run as this user (name or uid[:gid])')
    .option('-l, --label <KEY=VAL>', 'add or override a label (repeatable)', collect, [])
    .action(async (serviceName: string, command: string[], flags: RunFlags, cmd: Command) => {
      const global = globalOptions(cmd);
      const project = await loadProject(projectOptionsFromFlags(global, { servicesNamed: [serviceName] }));
      const service = project.services.get(serviceName);
      if (!service) {
        throw new BerthError(`no such service: "${serviceName}"`, { hint: `services are ${[...project.services.keys()].map((s) => `"${s}"`).join(', ')}` });
      }
      const tty = flags.tty !== false && !flags.detach && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);
      const labels: Record<string, string> = {};
      for (const label of flags.label) {
        const eq = label.indexOf('=');
        labels[eq < 0 ? label : label.slice(0, eq)] = eq < 0 ? '' : label.slice(eq + 1);
      }
      const env = Object.fromEntries(environmentFlags(flags.env).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const overrides: RunOverrides = {
        ...(command.length > 0 ? { command } : {}),
        ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint === '' ? [] : splitShellWords(flags.entrypoint) } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(flags.user ? { user: flags.user } : {}),
        ...(flags.workdir ? { workingDir: flags.workdir } : {}),
        tty,
        stdinOpen: flags.interactive !== false,
        ...(flags.volume.length > 0 ? { volumes: runVolumes(flags.volume, project.workingDir) } : {}),
        ports: [...(flags.servicePorts ? service.ports ?? [] : []), ...runPorts(flags.publish)],
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      };
      const engine = await Engine.open({ runtime: global.runtime });
      // --build builds the service's image; without it a missing image of a build: service is built.
      await ensureServiceImages(engine, project, [serviceName], { build: flags.build });
      const dependencies = Object.keys(service.depends_on ?? {}).filter((dep) => project.services.has(dep));
      if (flags.deps !== false && dependencies.length > 0) {
        await engine.up(project, { detach: true, wait: true, services: dependencies });
      }
      const oneoff = serviceWithOverrides(service, overrides);
      const record = await engine.withProjectLock(project.name, async () => {
        // A project never brought up (or taken down) has no networks or volumes yet: make the ones this container needs.
        await engine.network.ensureNetworks(project, oneoffNetworkKeys(project, oneoff));
        await engine.volumes.ensureProjectVolumes(project, (oneoff.volumes ?? []).flatMap((m) => (m.type === 'volume' && m.source && project.volumes.has(m.source) ? [m.source] : [])));
        return engine.createContainer(project, oneoff, 1, { overrides, oneoff: true, ...(flags.name ? { name: flags.name } : {}) });
      });
      // Name lookups of the container (service names and the world's) go to the supervisor's DNS server.
      if (usesProjectDns(record)) {
        await engine.ensureSupervisor(project.name, { wait: false }).catch(() => undefined);
        await engine.supervisorDns(project.name);
      }
      if (flags.detach) {
        await engine.startContainer(record);
        process.stdout.write(`${record.name}\n`);
        return;
      }
      let code: number;
      try {
        code = await runAttached(engine.driverFor(record), record, { stdin: flags.interactive !== false, env: engine.env });
      } finally {
        if (flags.rm) await engine.removeContainer(record, { volumes: true }).catch(() => undefined);
      }
      process.exitCode = code;
    });
}
