/**
 * The Project as the plain document `berth config` prints: compose's key order (its struct
 * field order for records, sorted keys for maps), metadata such as `source` left out.
 */
import type { Project, Service } from './types.js';

const serviceOrder = [
  'profiles', 'annotations', 'attach', 'build', 'develop', 'blkio_config', 'cap_add', 'cap_drop', 'cgroup_parent', 'cgroup',
  'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpus', 'cpuset', 'cpu_shares',
  'command', 'configs', 'container_name', 'credential_spec', 'depends_on', 'deploy', 'device_cgroup_rules', 'devices', 'dns',
  'dns_opt', 'dns_search', 'dockerfile', 'domainname', 'entrypoint', 'provider', 'environment', 'env_file', 'expose', 'extends',
  'external_links', 'extra_hosts', 'group_add', 'gpus', 'hostname', 'healthcheck', 'image', 'init', 'ipc', 'isolation', 'labels',
  'label_file', 'links', 'logging', 'log_driver', 'log_opt', 'mem_limit', 'mem_reservation', 'memswap_limit', 'mem_swappiness',
  'mac_address', 'net', 'network_mode', 'networks', 'oom_kill_disable', 'oom_score_adj', 'pid', 'pids_limit', 'platform', 'ports',
  'privileged', 'pull_policy', 'read_only', 'restart', 'runtime', 'scale', 'secrets', 'security_opt', 'shm_size', 'stdin_open',
  'stop_grace_period', 'stop_signal', 'storage_opt', 'sysctls', 'tmpfs', 'tty', 'ulimits', 'use_api_socket', 'user', 'userns_mode',
  'uts', 'volume_driver', 'volumes', 'volumes_from', 'working_dir', 'post_start', 'pre_stop',
];
const portOrder = ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'];
const mountOrder = ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image'];
const dependencyOrder = ['condition', 'restart', 'required'];
const bindOrder = ['propagation', 'create_host_path', 'selinux'];
const buildOrder = ['context', 'dockerfile', 'dockerfile_inline', 'entitlements', 'args', 'ssh', 'labels', 'cache_from', 'cache_to', 'no_cache', 'additional_contexts', 'network', 'pull', 'target', 'shm_size', 'extra_hosts', 'isolation', 'privileged', 'secrets', 'tags', 'ulimits', 'platforms'];
const healthOrder = ['test', 'timeout', 'interval', 'retries', 'start_period', 'start_interval', 'disable'];
const networkOrder = ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'enable_ipv4', 'enable_ipv6'];
const volumeOrder = ['name', 'driver', 'driver_opts', 'external', 'labels'];
const fileObjectOrder = ['name', 'file', 'environment', 'content', 'external', 'labels', 'driver', 'driver_opts', 'template_driver'];

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Plain data with every mapping's keys sorted (Go prints maps sorted), lists in order. */
export function sortedData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedData);
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareText)) result[key] = sortedData((value as Record<string, unknown>)[key]);
    return result;
  }
  return value;
}

/** Keys listed in `order` first, in that order, then the others sorted (`x-` keys last). */
const orderSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function ordered(value: Record<string, unknown>, order: readonly string[], omit: readonly string[] = []): Record<string, unknown> {
  let orderSet = orderSets.get(order);
  if (!orderSet) orderSets.set(order, (orderSet = new Set(order)));
  const result: Record<string, unknown> = {};
  for (const key of order) if (value[key] !== undefined && !omit.includes(key)) result[key] = sortedData(value[key]);
  const rest = Object.keys(value).filter((key) => !orderSet.has(key) && !omit.includes(key) && value[key] !== undefined);
  const plain = rest.filter((key) => !key.startsWith('x-')).sort(compareText);
  const extensions = rest.filter((key) => key.startsWith('x-')).sort(compareText);
  for (const key of [...plain, ...extensions]) result[key] = sortedData(value[key]);
  return result;
}

/** Options of toComposeDocument(). */
export interface ComposeDocumentOptions {
  /** JSON prints `command` and `entrypoint` as null when unset, as compose's JSON does. */
  format?: 'json' | 'yaml';
}

/** One service as compose prints it. */
export function serviceDocument(service: Service, options: ComposeDocumentOptions = {}): Record<string, unknown> {
  const value: Record<string, unknown> = { ...service };
  if (options.format === 'json') {
    value.command ??= null;
    value.entrypoint ??= null;
  }
  const result = ordered(value, serviceOrder, ['name', 'source']);
  if (Array.isArray(service.ports)) result.ports = service.ports.map((port) => ordered({ ...port }, portOrder));
  if (Array.isArray(service.volumes)) {
    result.volumes = service.volumes.map((mount) => {
      const printed = ordered({ ...mount }, mountOrder);
      if (mount.bind) printed.bind = ordered({ ...mount.bind }, bindOrder);
      return printed;
    });
  }
  if (service.build) result.build = ordered({ ...service.build }, buildOrder);
  if (service.depends_on) {
    const dependsOn: Record<string, unknown> = {};
    for (const name of Object.keys(service.depends_on).sort(compareText)) dependsOn[name] = ordered({ ...service.depends_on[name] }, dependencyOrder);
    result.depends_on = dependsOn;
  }
  if (service.healthcheck) result.healthcheck = ordered({ ...service.healthcheck }, healthOrder);
  return result;
}

/** The whole project as compose prints it: name, services, networks, volumes, secrets, configs, then `x-` keys. */
export function toComposeDocument(project: Project, options: ComposeDocumentOptions = {}): Record<string, unknown> {
  const document: Record<string, unknown> = { name: project.name };
  const services: Record<string, unknown> = {};
  for (const name of [...project.services.keys()].sort(compareText)) services[name] = serviceDocument(project.services.get(name)!, options);
  document.services = services;
  const section = (map: ReadonlyMap<string, Record<string, unknown>>, order: readonly string[]): Record<string, unknown> | undefined => {
    if (map.size === 0) return undefined;
    const result: Record<string, unknown> = {};
    for (const key of [...map.keys()].sort(compareText)) result[key] = ordered({ ...map.get(key)! }, order, ['key', 'source']);
    return result;
  };
  const networks = section(project.networks, networkOrder);
  if (networks && options.format !== 'json') {
    // compose's YAML leaves out the empty ipam its JSON prints (omitempty works on YAML structs only).
    for (const network of Object.values(networks) as Record<string, unknown>[]) {
      if (typeof network.ipam === 'object' && network.ipam !== null && Object.keys(network.ipam).length === 0) delete network.ipam;
    }
  }
  if (networks) document.networks = networks;
  const volumes = section(project.volumes, volumeOrder);
  if (volumes) document.volumes = volumes;
  const secrets = section(project.secrets, fileObjectOrder);
  if (secrets) document.secrets = secrets;
  const configs = section(project.configs, fileObjectOrder);
  if (configs) document.configs = configs;
  for (const key of Object.keys(project.extensions).sort(compareText)) document[key] = sortedData(project.extensions[key]);
  return document;
}
