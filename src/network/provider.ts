/** The NetworkProvider the engine uses: bridges per network, a netns per container, kernel NAT for ports. */
import type { AttachRequest, EventSink, NetworkAttachment, NetworkProvider, Project } from '../engine/types.js';
import { runRoot, stateRoot } from '../paths.js';
import { attachContainer, detachContainer } from './endpoint.js';
import { createNetworks, planNetworks, removeProjectNetworks } from './networks.js';
import { withNetworkLock } from './state.js';

/** Options of createNetworkProvider. */
export interface NetworkProviderOptions {
  /** State root (default stateRoot()): network state lives in <root>/networks. */
  root?: string;
  /** Runtime root (default runRoot()); kept for symmetry, named netns live in /run/netns. */
  runRoot?: string;
}

/** Creates the network layer for one berth root. Every change is serialised by a host-wide lock. */
export function createNetworkProvider(opts: NetworkProviderOptions = {}): NetworkProvider {
  const root = opts.root ?? stateRoot();
  void (opts.runRoot ?? runRoot());
  const ctx = { root };
  return {
    async ensureNetworks(project: Project, networkKeys: readonly string[], events?: EventSink): Promise<void> {
      if (networkKeys.length === 0) return;
      await withNetworkLock(async () => {
        const planned = await planNetworks(root, project, networkKeys);
        if (planned.length > 0) await createNetworks(root, project.name, planned, events);
      });
    },
    attach(request: AttachRequest): Promise<NetworkAttachment> {
      return withNetworkLock(() => attachContainer(ctx, request));
    },
    detach(containerId: string, attachment: NetworkAttachment): Promise<void> {
      return withNetworkLock(() => detachContainer(ctx, containerId, attachment));
    },
    removeNetworks(project: { name: string; networks?: Project['networks'] }, events?: EventSink): Promise<void> {
      return withNetworkLock(() => removeProjectNetworks(root, project, events));
    },
  };
}
