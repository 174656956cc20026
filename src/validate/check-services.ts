/**
 * Checks of service values the schema can only see as "a string": ports, volumes, durations,
 * byte sizes, hosts, healthcheck tests, watch rules, and rules spanning several attributes
 * (image or build, unique container names, scale against replicas).
 */
import { ipVersion } from '../ip.js';
import { CheckContext, isMapping, type KeyPath, type Mapping } from './context.js';
import { formatPath } from './describe.js';
import { quoteAnd } from './did-you-mean.js';
import { parseByteSize, parseDuration, parseExposeSpec, parsePortSpec } from './syntax/index.js';

/** Values still holding `${VAR}` (loaded with --no-interpolate) cannot be checked yet. */
function uninterpolated(value: string): boolean {
  return value.includes('$');
}

function checkDuration(context: CheckContext, owner: Mapping, key: string, path: KeyPath): void {
  const value = owner[key];
  if (typeof value !== 'string' || uninterpolated(value)) return;
  try {
    const ms = parseDuration(value);
    if (ms < 0) context.report([...path, key], `${formatPath([...path, key])} must not be negative, got "${value}"`);
  } catch (error) {
    context.report([...path, key], `${formatPath([...path, key])}: ${(error as Error).message}`);
  }
}

function checkBytes(context: CheckContext, owner: Mapping, key: string, path: KeyPath, allowMinusOne = false): void {
  const value = owner[key];
  if ((typeof value !== 'string' && typeof value !== 'number') || (typeof value === 'string' && uninterpolated(value))) return;
  if (allowMinusOne && (value === -1 || value === '-1')) return;
  try {
    parseByteSize(value);
  } catch (error) {
    context.report([...path, key], `${formatPath([...path, key])}: ${(error as Error).message}`);
  }
}

function checkCpus(context: CheckContext, owner: Mapping, key: string, path: KeyPath): void {
  const value = owner[key];
  const number = typeof value === 'number' ? value : typeof value === 'string' && !uninterpolated(value) ? Number(value) : undefined;
  if (number !== undefined && Number.isFinite(number) && number < 0) {
    context.report([...path, key], `${formatPath([...path, key])} must be 0 or more, got ${JSON.stringify(value)}`, 'cpus is a number of CPUs such as 0.5 or 2');
  }
}

function checkPorts(context: CheckContext, serviceName: string, service: Mapping): void {
  const base: KeyPath = ['services', serviceName];
  if (Array.isArray(service.ports)) {
    service.ports.forEach((entry, index) => {
      const path = [...base, 'ports', index];
      if (typeof entry === 'string' || typeof entry === 'number') {
        if (typeof entry === 'string' && uninterpolated(entry)) return;
        try {
          parsePortSpec(entry);
        } catch (error) {
          context.report(path, `invalid port ${JSON.stringify(entry)} in service "${serviceName}": ${(error as Error).message}`, 'write ports as "[IP:]HOST:CONTAINER[/PROTOCOL]", e.g. "8080:80" or "127.0.0.1:5432:5432"');
        }
      } else if (isMapping(entry)) {
        const published = entry.published;
        if ((typeof published === 'string' && !uninterpolated(published)) || typeof published === 'number') {
          const match = /^(\d+)(?:-(\d+))?$/.exec(String(published));
          const outOfRange = match && [match[1], match[2] ?? match[1]].some((port) => Number(port) > 65535);
          if (!match || outOfRange) context.report([...path, 'published'], `invalid published port ${JSON.stringify(published)} in service "${serviceName}"`, 'use a port from 0 to 65535 or a range such as "8080-8085"');
        }
        if (typeof entry.host_ip === 'string' && entry.host_ip !== '' && !uninterpolated(entry.host_ip) && ipVersion(entry.host_ip) === 0) {
          context.report([...path, 'host_ip'], `invalid host_ip "${entry.host_ip}" in service "${serviceName}": not an IP address`);
        }
        if (typeof entry.protocol === 'string' && !['tcp', 'udp', 'sctp'].includes(entry.protocol.toLowerCase()) && !uninterpolated(entry.protocol)) {
          context.report([...path, 'protocol'], `unknown protocol "${entry.protocol}" in service "${serviceName}"`, 'use "tcp", "udp" or "sctp"');
        }
      }
    });
  }
  if (Array.isArray(service.expose)) {
    service.expose.forEach((entry, index) => {
      if ((typeof entry !== 'string' && typeof entry !== 'number') || (typeof entry === 'string' && uninterpolated(entry))) return;
      try {
        parseExposeSpec(entry);
      } catch (error) {
        context.report([...base, 'expose', index], `invalid expose entry ${JSON.stringify(entry)} in service "${serviceName}": ${(error as Error).message}`);
      }
    });
  }
}

function checkVolumes(context: CheckContext, serviceName: string, service: Mapping): void {
  if (!Array.isArray(service.volumes)) return;
  service.volumes.forEach((entry, index) => {
    const path: KeyPath = ['services', serviceName, 'volumes', index];
    if (typeof entry === 'string') {
      if (uninterpolated(entry)) return;
      const spec = context.volumeSpec(entry);
      if (spec instanceof Error) {
        context.report(path, `invalid volume ${JSON.stringify(entry)} in service "${serviceName}": ${spec.message}`, 'write volumes as "SOURCE:TARGET[:MODE]", e.g. "data:/var/lib/data" or "./src:/app:ro"');
      }
    } else if (isMapping(entry)) {
      const target = entry.target;
      if (entry.type !== 'npipe' && (typeof target !== 'string' || target === '')) {
        context.report(path, `volume ${index} of service "${serviceName}" has no "target"`, 'set "target" to an absolute path in the container');
      } else if (typeof target === 'string' && !target.startsWith('/') && !uninterpolated(target) && entry.type !== 'npipe') {
        context.report([...path, 'target'], `volume target "${target}" of service "${serviceName}" must be an absolute path`);
      }
      if ((entry.type === 'bind' || entry.type === 'image') && (typeof entry.source !== 'string' || entry.source === '')) {
        context.report(path, `${entry.type} mount ${index} of service "${serviceName}" has no "source"`, entry.type === 'bind' ? 'set "source" to a path on the host' : 'set "source" to an image reference');
      }
      if (entry.type === 'tmpfs' && entry.source !== undefined) {
        context.report([...path, 'source'], `tmpfs mount ${index} of service "${serviceName}" cannot have a "source"`, 'a tmpfs mount starts empty: remove "source", or use type "volume" or "bind"');
      }
      if (isMapping(entry.tmpfs)) checkBytes(context, entry.tmpfs, 'size', [...path, 'tmpfs']);
    }
  });
}

function checkExtraHosts(context: CheckContext, owner: Mapping, path: KeyPath): void {
  const hosts = owner.extra_hosts;
  const checkAddress = (address: string, entryPath: KeyPath, host: string): void => {
    if (address === 'host-gateway' || uninterpolated(address)) return;
    const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
    if (ipVersion(bare) === 0) context.report(entryPath, `extra host "${host}" has invalid IP address "${address}"`, 'use an IPv4 or IPv6 address, or "host-gateway"');
  };
  if (Array.isArray(hosts)) {
    hosts.forEach((entry, index) => {
      if (typeof entry !== 'string' || uninterpolated(entry)) return;
      const separator = /^[^:=]*[:=]/.exec(entry);
      if (!separator || separator[0].length === 1) {
        context.report([...path, 'extra_hosts', index], `invalid extra host ${JSON.stringify(entry)}`, 'write it as "hostname:ip" or "hostname=ip", e.g. "db.local:10.0.0.5"');
        return;
      }
      const host = entry.slice(0, separator[0].length - 1);
      checkAddress(entry.slice(separator[0].length), [...path, 'extra_hosts', index], host);
    });
  } else if (isMapping(hosts)) {
    for (const [host, addresses] of Object.entries(hosts)) {
      for (const address of Array.isArray(addresses) ? addresses : [addresses]) {
        if (typeof address === 'string') checkAddress(address, [...path, 'extra_hosts', host], host);
      }
    }
  }
}

function checkHealthcheck(context: CheckContext, serviceName: string, service: Mapping): void {
  const healthcheck = service.healthcheck;
  if (!isMapping(healthcheck)) return;
  const path: KeyPath = ['services', serviceName, 'healthcheck'];
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval']) checkDuration(context, healthcheck, key, path);
  const test = healthcheck.test;
  if (Array.isArray(test) && test.length > 0 && typeof test[0] === 'string' && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0])) {
    context.report([...path, 'test', 0], `healthcheck test of service "${serviceName}" must start with "CMD", "CMD-SHELL" or "NONE", got "${test[0]}"`, 'e.g. ["CMD", "curl", "-f", "http://localhost"], or a plain string run by the shell');
  }
  if (Array.isArray(test) && test.length === 0) context.report([...path, 'test'], `healthcheck test of service "${serviceName}" is an empty list`);
  const disabled = healthcheck.disable === true || healthcheck.disable === 'true';
  const testDisables = Array.isArray(test) && test[0] === 'NONE';
  if (disabled && test !== undefined && !testDisables) {
    context.report([...path, 'disable'], `healthcheck of service "${serviceName}" sets both "disable: true" and "test"`, 'remove "test", or remove "disable" to keep the check');
  }
}

/** `tmpfs` short syntax: `/run` or `/run:size=64m,mode=1777`, always an absolute target. */
function checkTmpfs(context: CheckContext, serviceName: string, service: Mapping): void {
  const tmpfs = service.tmpfs;
  const entries: [string, KeyPath][] = typeof tmpfs === 'string'
    ? [[tmpfs, ['services', serviceName, 'tmpfs']]]
    : Array.isArray(tmpfs)
      ? tmpfs.flatMap((entry, index) => (typeof entry === 'string' ? [[entry, ['services', serviceName, 'tmpfs', index]] as [string, KeyPath]] : []))
      : [];
  for (const [entry, path] of entries) {
    const target = entry.split(':')[0];
    if (!target.startsWith('/') && !uninterpolated(target)) {
      context.report(path, `tmpfs mount "${entry}" of service "${serviceName}" must start with an absolute path`, 'write it as "/path" or "/path:size=64m,mode=1777"');
    }
  }
}

function checkBuild(context: CheckContext, serviceName: string, build: Mapping): void {
  const path: KeyPath = ['services', serviceName, 'build'];
  if (build.dockerfile !== undefined && build.dockerfile_inline !== undefined) {
    context.report([...path, 'dockerfile_inline'], `build of service "${serviceName}" sets both "dockerfile" and "dockerfile_inline"`, 'keep one of them');
  }
  checkBytes(context, build, 'shm_size', path);
  checkExtraHosts(context, build, path);
  checkUlimits(context, build, path);
}

function checkDevelop(context: CheckContext, serviceName: string, service: Mapping): void {
  if (!isMapping(service.develop) || !Array.isArray(service.develop.watch)) return;
  service.develop.watch.forEach((rule, index) => {
    if (!isMapping(rule) || typeof rule.action !== 'string') return;
    const path: KeyPath = ['services', serviceName, 'develop', 'watch', index];
    if (rule.action.startsWith('sync') && rule.target === undefined) {
      context.report(path, `watch rule ${index} of service "${serviceName}" uses action "${rule.action}" but has no "target"`, 'set "target" to the path in the container that receives the files');
    }
    if (rule.action === 'sync+exec' && rule.exec === undefined) {
      context.report(path, `watch rule ${index} of service "${serviceName}" uses action "sync+exec" but has no "exec"`, 'add "exec: {command: ...}"');
    }
  });
}

function checkUlimits(context: CheckContext, owner: Mapping, path: KeyPath): void {
  if (!isMapping(owner.ulimits)) return;
  for (const [name, limit] of Object.entries(owner.ulimits)) {
    if (!isMapping(limit)) continue;
    const soft = Number(limit.soft);
    const hard = Number(limit.hard);
    if (Number.isFinite(soft) && Number.isFinite(hard) && soft > hard) {
      context.report([...path, 'ulimits', name], `ulimit "${name}" has soft limit ${soft} above hard limit ${hard}`, 'the soft limit must not exceed the hard limit');
    }
  }
}

function checkDeploy(context: CheckContext, serviceName: string, service: Mapping): void {
  const deploy = service.deploy;
  if (!isMapping(deploy)) return;
  const path: KeyPath = ['services', serviceName, 'deploy'];
  if (isMapping(deploy.resources)) {
    for (const kind of ['limits', 'reservations']) {
      const resources = deploy.resources[kind];
      if (!isMapping(resources)) continue;
      checkBytes(context, resources, 'memory', [...path, 'resources', kind]);
      checkCpus(context, resources, 'cpus', [...path, 'resources', kind]);
    }
  }
  if (isMapping(deploy.restart_policy)) {
    for (const key of ['delay', 'window']) checkDuration(context, deploy.restart_policy, key, [...path, 'restart_policy']);
  }
  for (const key of ['update_config', 'rollback_config']) {
    const config = deploy[key];
    if (isMapping(config)) for (const inner of ['delay', 'monitor']) checkDuration(context, config, inner, [...path, key]);
  }
  const replicas = Number(deploy.replicas);
  const scale = Number(service.scale);
  if (deploy.replicas !== undefined && service.scale !== undefined && Number.isFinite(replicas) && Number.isFinite(scale) && replicas !== scale) {
    context.report(['services', serviceName, 'scale'], `service "${serviceName}" sets "scale" (${scale}) and "deploy.replicas" (${replicas}) to different values`, 'keep one of them');
  }
}

/** Every service has an image or a build section, unless a provider runs it. */
function checkImageOrBuild(context: CheckContext, serviceName: string, service: Mapping): void {
  if (service.image === undefined && service.build === undefined && service.provider === undefined) {
    context.report(['services', serviceName], `service "${serviceName}" has neither an image nor a build context`, 'add "image: <name>" to run an existing image, or "build: <dir>" to build one');
  }
}

/** container_name must be unique, and a fixed name allows only one replica. */
function checkContainerNames(context: CheckContext): void {
  const owners = new Map<string, string[]>();
  for (const [serviceName, service] of context.services()) {
    const name = service.container_name;
    if (typeof name !== 'string') continue;
    owners.set(name, [...(owners.get(name) ?? []), serviceName]);
    const replicas = Number(service.scale ?? (isMapping(service.deploy) ? service.deploy.replicas : undefined) ?? 1);
    if (Number.isFinite(replicas) && replicas > 1) {
      context.report(['services', serviceName, 'container_name'], `service "${serviceName}" sets container_name "${name}" but runs ${replicas} replicas`, 'container names are unique: remove container_name or run one replica');
    }
  }
  for (const [name, serviceNames] of owners) {
    if (serviceNames.length < 2) continue;
    for (const serviceName of serviceNames.slice(1)) {
      context.report(['services', serviceName, 'container_name'], `container name "${name}" is used by services ${quoteAnd(serviceNames)}`, 'container names must be unique: rename all but one');
    }
  }
}

/** Runs every per-service value check. */
export function checkServices(context: CheckContext): void {
  for (const [serviceName, service] of context.services()) {
    const base: KeyPath = ['services', serviceName];
    checkImageOrBuild(context, serviceName, service);
    checkPorts(context, serviceName, service);
    checkVolumes(context, serviceName, service);
    checkDuration(context, service, 'stop_grace_period', base);
    for (const key of ['cpu_rt_period', 'cpu_rt_runtime']) checkDuration(context, service, key, base);
    for (const key of ['mem_limit', 'mem_reservation', 'shm_size']) checkBytes(context, service, key, base);
    checkBytes(context, service, 'memswap_limit', base, true);
    checkCpus(context, service, 'cpus', base);
    checkExtraHosts(context, service, base);
    checkHealthcheck(context, serviceName, service);
    checkDevelop(context, serviceName, service);
    checkUlimits(context, service, base);
    checkDeploy(context, serviceName, service);
    checkTmpfs(context, serviceName, service);
    if (isMapping(service.build)) checkBuild(context, serviceName, service.build);
    if (isMapping(service.blkio_config)) {
      for (const key of ['device_read_bps', 'device_write_bps']) {
        const limits = service.blkio_config[key];
        if (Array.isArray(limits)) limits.forEach((limit, index) => isMapping(limit) && checkBytes(context, limit, 'rate', [...base, 'blkio_config', key, index]));
      }
    }
  }
  checkContainerNames(context);
}
