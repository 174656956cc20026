/**
 * A network provider for when no network layer is available: every container gets a fresh
 * network namespace with only loopback, no files. Used until src/network provides the real one.
 */
import type { NetworkAttachment, NetworkProvider } from './types.js';

/** The 'none' provider: attach gives an isolated namespace, everything else is a no-op. */
export function createNoneNetworkProvider(): NetworkProvider {
  return {
    async ensureNetworks() {},
    async attach(): Promise<NetworkAttachment> {
      return { mode: 'none', addresses: [], ports: [], files: {} };
    },
    async detach() {},
    async removeNetworks() {},
  };
}
