/**
 * berth's network layer: bridges and subnets per compose network, a network namespace per
 * container, name resolution through a small DNS server per project, published ports as kernel
 * NAT rules. See docs/network.md.
 */
export { createNetworkProvider, type NetworkProviderOptions } from './provider.js';
export { startDnsServer, type DnsServerOptions, type DnsServerHandle } from './dns/server.js';
export { cleanupProject, findProjectLeaks, type ProjectLeaks } from './cleanup.js';
export { NetworkError } from './errors.js';
export { listNetworks, readNetwork, type NetworkState, type EndpointState } from './state.js';
