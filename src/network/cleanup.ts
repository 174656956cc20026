/**
 * Finding and removing everything berth made for a project, even after a crash: state files,
 * named netns, veths and bridges (found by their `berth:<project>/` alias too), the nft table.
 */
import { existsSync } from 'node:fs';
import { stateRoot } from '../paths.js';
import { detachContainer, netnsName, netnsPath } from './endpoint.js';
import { ipBatchForce, ipJson } from './exec.js';
import { deleteTable, listBerthTables, projectTable, tableLockPath } from './firewall.js';
import { removeBridges } from './networks.js';
import { listContainerStates, listNetworks, withFileLock, withNetworkLock } from './state.js';

/** What of a project is still present on the host. */
export interface ProjectLeaks {
  /** Interfaces (bridges, veths) carrying the project's alias. */
  links: string[];
  /** Named netns of the project's containers still mounted. */
  netns: string[];
  /** The project's nft table, when present. */
  tables: string[];
  /** Network and container state files left. */
  networks: string[];
  containers: string[];
}

async function projectLinks(project: string): Promise<string[]> {
  const links = await ipJson<Array<{ ifname: string; ifalias?: string }>>(['link', 'show']).catch(() => []);
  return links.filter((l) => l.ifalias?.startsWith(`berth:${project}/`)).map((l) => l.ifname);
}

/** Lists what berth still holds for `project` in `root` (empty lists: nothing leaked). */
export async function findProjectLeaks(project: string, root: string = stateRoot()): Promise<ProjectLeaks> {
  const containers = listContainerStates(root).filter((c) => c.project === project);
  const table = projectTable(root, project);
  return {
    links: await projectLinks(project),
    netns: containers.map((c) => c.netns ?? netnsName(c.containerId)).filter((ns) => existsSync(netnsPath(ns))),
    tables: (await listBerthTables()).filter((t) => t === table),
    networks: listNetworks(root).filter((n) => n.project === project).map((n) => n.name),
    containers: containers.map((c) => c.containerName),
  };
}

/**
 * Removes every network piece of `project` in `root`: containers' netns and veths, the
 * project's bridges and state, its packet rules. Idempotent; for `down` after a crash and for
 * leak checks in tests. Returns what was found before removal.
 */
export async function cleanupProject(project: string, root: string = stateRoot()): Promise<ProjectLeaks> {
  const before = await findProjectLeaks(project, root);
  await Promise.all(listContainerStates(root).filter((s) => s.project === project).map((c) => detachContainer({ root }, c.containerId, undefined)));
  await withNetworkLock(async () => {
    await ipBatchForce((await projectLinks(project)).map((l) => `link del dev ${l}`));
    await removeBridges(root, listNetworks(root).filter((n) => n.project === project));
  });
  const table = projectTable(root, project);
  await withFileLock(tableLockPath(table), () => deleteTable(table));
  return before;
}
