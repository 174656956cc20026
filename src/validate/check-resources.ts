/**
 * Checks of top-level networks, volumes, secrets and configs beyond their shape: addresses in
 * IPAM config, `external` resources that also try to configure what they do not own, and secrets
 * or configs with no (or more than one) source of content.
 */
import { ipVersion } from '../ip.js';
import { CheckContext, isMapping, type KeyPath } from './context.js';
import { quoteAnd } from './did-you-mean.js';

/** True for `10.0.0.0/24` or `fd00::/64`: an IP address and a prefix length that fits it. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const version = ipVersion(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (version === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

function isExternal(value: unknown): boolean {
  return value === true || value === 'true' || isMapping(value);
}

function checkNetworkDefinitions(context: CheckContext): void {
  for (const [networkName, network] of Object.entries(context.section('networks'))) {
    if (!isMapping(network)) continue;
    const base: KeyPath = ['networks', networkName];
    if (isExternal(network.external)) {
      const conflicting = ['driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv4', 'enable_ipv6'].filter((key) => network[key] !== undefined);
      if (conflicting.length > 0) {
        context.report([...base, conflicting[0]], `external network "${networkName}" cannot set ${quoteAnd(conflicting)}`, 'an external network is created outside the project; remove these keys or "external"');
      }
    }
    const ipam = network.ipam;
    if (!isMapping(ipam) || !Array.isArray(ipam.config)) continue;
    ipam.config.forEach((pool, index) => {
      if (!isMapping(pool)) return;
      const path: KeyPath = [...base, 'ipam', 'config', index];
      for (const key of ['subnet', 'ip_range']) {
        const value = pool[key];
        if (typeof value === 'string' && !value.includes('$') && !isCidr(value)) {
          context.report([...path, key], `network "${networkName}" has invalid ${key} "${value}"`, 'write it in CIDR notation, e.g. "172.28.0.0/16" or "fd00:1::/64"');
        }
      }
      const gateway = pool.gateway;
      if (typeof gateway === 'string' && !gateway.includes('$') && ipVersion(gateway) === 0) {
        context.report([...path, 'gateway'], `network "${networkName}" has invalid gateway "${gateway}"`, 'use an IP address inside the subnet, e.g. "172.28.0.1"');
      }
      if (isMapping(pool.aux_addresses)) {
        for (const [host, address] of Object.entries(pool.aux_addresses)) {
          if (typeof address === 'string' && !address.includes('$') && ipVersion(address) === 0) {
            context.report([...path, 'aux_addresses', host], `network "${networkName}" has invalid auxiliary address "${address}" for "${host}"`);
          }
        }
      }
    });
  }
}

function checkVolumeDefinitions(context: CheckContext): void {
  for (const [volumeName, volume] of Object.entries(context.section('volumes'))) {
    if (!isMapping(volume) || !isExternal(volume.external)) continue;
    const conflicting = ['driver', 'driver_opts'].filter((key) => volume[key] !== undefined);
    if (conflicting.length > 0) {
      context.report(['volumes', volumeName, conflicting[0]], `external volume "${volumeName}" cannot set ${quoteAnd(conflicting)}`, 'an external volume is created outside the project; remove these keys or "external"');
    }
  }
}

/** A secret or config takes its content from exactly one source. */
function checkFileResources(context: CheckContext, section: 'secrets' | 'configs'): void {
  const kind = section === 'secrets' ? 'secret' : 'config';
  const sourceKeys = section === 'secrets' ? ['file', 'environment', 'external'] : ['file', 'environment', 'content', 'external'];
  for (const [name, definition] of Object.entries(context.section(section))) {
    if (!isMapping(definition)) continue;
    const given = sourceKeys.filter((key) => definition[key] !== undefined && !(key === 'external' && !isExternal(definition[key])));
    // A driver (secrets) can provide the content itself.
    if (given.length === 0 && definition.driver === undefined) {
      context.report([section, name], `${kind} "${name}" has no content source`, `set one of ${quoteAnd(sourceKeys, 'or')}`);
    } else if (given.length > 1) {
      context.report([section, name, given[1]], `${kind} "${name}" has more than one content source: ${quoteAnd(given)}`, `use only one of ${quoteAnd(sourceKeys, 'or')}`);
    }
  }
}

/** Runs every top-level resource check. */
export function checkResources(context: CheckContext): void {
  checkNetworkDefinitions(context);
  checkVolumeDefinitions(context);
  checkFileResources(context, 'secrets');
  checkFileResources(context, 'configs');
}
