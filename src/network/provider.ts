/** The NetworkProvider the engine uses: bridges per network, a netns per container, kernel NAT for ports. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AttachRequest, EventSink, NetworkAttachment, NetworkProvider, Project } from '../engine/types.js';
import { runRoot, stateRoot } from '../paths.js';
import { attachContainer, detachContainer } from './endpoint.js';
import { syncProjectFirewall } from './firewall.js';
import { createNetworks, enableLocalnet, planNetworks, removeBridges, removeProjectNetworks } from './networks.js';
import { listContainerStates, listNetworks, readNetwork, withNetworkLock, writeNetwork } from './state.js';

/** Options of createNetworkProvider. */
export interface NetworkProviderOptions {
  /** State root (default stateRoot()): network state lives in <root>/networks. */
  root?: string;
  /** Runtime root (default runRoot()); kept for symmetry, named netns live in /run/netns. */
  runRoot?: string;
}

/**
 * Creates the network layer for one berth root. Host-wide resources (subnets, bridges,
 * addresses, host ports) are decided under a host-wide lock; the kernel work of attaching and
 * detaching containers runs outside it.
 */
export function createNetworkProvider(opts: NetworkProviderOptions = {}): NetworkProvider {
  const root = opts.root ?? stateRoot();
  void (opts.runRoot ?? runRoot());
  const ctx = { root };
  return {
    async ensureNetworks(project: Project, networkKeys: readonly string[], events?: EventSink): Promise<void> {
      if (networkKeys.length === 0) return;
      // Bridges are made under the lock: another berth must see their subnets in the kernel.
      const { made, unguarded } = await withNetworkLock(async () => {
        const planned = await planNetworks(root, project, networkKeys);
        if (planned.length > 0) await createNetworks(root, project.name, planned, events);
        // Networks made before the loopback guard existed get it now (once).
        const unguarded = listNetworks(root).filter((n) => n.project === project.name && !n.guarded);
        return { made: planned, unguarded };
      });
      if (made.length === 0 && unguarded.length === 0) return;
      try {
        await syncProjectFirewall(root, project.name);
      } catch (err) {
        if (made.length === 0) throw err;
        await withNetworkLock(() => removeBridges(root, made));
        await syncProjectFirewall(root, project.name).catch(() => undefined);
        throw err;
      }
      // route_localnet only once the guard against loopback traffic from containers is loaded.
      enableLocalnet(made);
      if (unguarded.length > 0) {
        await withNetworkLock(() => {
          for (const old of unguarded) {
            const current = readNetwork(root, old.name);
            if (current && current.bridge === old.bridge) writeNetwork(root, { ...current, guarded: true });
          }
        });
      }
    },
    attach(request: AttachRequest): Promise<NetworkAttachment> {
      return attachContainer(ctx, request);
    },
    detach(containerId: string, attachment: NetworkAttachment): Promise<void> {
      return detachContainer(ctx, containerId, attachment);
    },
    async removeNetworks(project: { name: string; networks?: Project['networks'] }, events?: EventSink): Promise<void> {
      // A berth command killed between attaching a container and writing its record leaves an
      // endpoint no container owns; the engine calls this under the project lock with every
      // recorded container gone, so such endpoints are leftovers and are removed here.
      const stale = listContainerStates(root).filter((state) => state.project === project.name
        && !existsSync(path.join(root, 'projects', state.project, 'containers', state.containerName, 'record.json')));
      await Promise.all(stale.map((state) => detachContainer({ root }, state.containerId, undefined)));
      await withNetworkLock(() => removeProjectNetworks(root, project, events));
      await syncProjectFirewall(root, project.name);
    },
  };
}
