/**
 * Who is on which network, read from the state files on disk with mtime caching, so the DNS
 * server follows creates, recreates, scaling and restarts without being told about them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { networksDir, type ContainerNetState, type EndpointState, type NetworkState } from '../state.js';

interface Cached<T> { ino: number; mtimeMs: number; size: number; value: T | undefined }

/**
 * Reads JSON files, re-parsing one only when its inode, mtime or size changed. State files are
 * replaced by rename, so every version is a new inode: this catches a rewrite of the same size
 * within one tick of the (coarse) file timestamps, which mtime and size alone would miss.
 */
class FileCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  read(file: string): T | undefined {
    let st;
    try { st = statSync(file); } catch { this.entries.delete(file); return undefined; }
    const hit = this.entries.get(file);
    if (hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value;
    let value: T | undefined;
    try { value = JSON.parse(readFileSync(file, 'utf8')) as T; } catch { value = undefined; }
    this.entries.set(file, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, value });
    return value;
  }
}

interface RunInfoLike { startedAt?: string; finishedAt?: string }

/** The membership view of one berth root. */
export class Directory {
  private readonly nets = new FileCache<NetworkState>();
  private readonly containers = new FileCache<ContainerNetState>();
  private readonly runs = new FileCache<RunInfoLike>();
  private snapshot: NetworkState[] = [];
  private snapshotAt = 0;

  constructor(readonly root: string, private readonly maxAgeMs = 100) {}

  /** Every network of the root (re-read when older than maxAgeMs). */
  networks(): NetworkState[] {
    const now = Date.now();
    if (now - this.snapshotAt < this.maxAgeMs) return this.snapshot;
    const dir = networksDir(this.root);
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { names = []; }
    this.snapshot = names.filter((n) => n.endsWith('.json')).map((n) => this.nets.read(path.join(dir, n))).filter((s): s is NetworkState => !!s && !!s.endpoints);
    this.snapshotAt = now;
    return this.snapshot;
  }

  /** A container's network state (dns servers, links). */
  container(id: string): ContainerNetState | undefined {
    return this.containers.read(path.join(networksDir(this.root), 'containers', `${encodeURIComponent(id)}.json`));
  }

  /** False when the engine's run info says the container has stopped (it then drops out of DNS). */
  running(endpoint: EndpointState): boolean {
    const run = this.runs.read(path.join(this.root, 'projects', endpoint.project, 'containers', endpoint.containerName, 'run.json'));
    if (!run?.finishedAt) return true;
    return !!run.startedAt && run.startedAt > run.finishedAt;
  }

  /** The endpoints (one per network) of the container that has address `ip`. */
  asker(ip: string): EndpointState[] {
    const address = ip.replace(/^::ffff:/, '');
    const networks = this.networks();
    let id: string | undefined;
    for (const net of networks) {
      for (const e of Object.values(net.endpoints)) if (e.ipv4 === address || e.ipv6 === address) { id = e.containerId; break; }
      if (id) break;
    }
    if (!id) return [];
    return networks.map((n) => n.endpoints[id!]).filter((e): e is EndpointState => !!e);
  }

  /**
   * Addresses `name` resolves to for the asker at `ip`: endpoints on the networks the asker is on
   * whose names include it. `found` is false when no such name exists there.
   */
  resolve(ip: string, name: string): { found: boolean; v4: string[]; v6: string[] } {
    const mine = this.asker(ip);
    const result = { found: false, v4: [] as string[], v6: [] as string[] };
    if (mine.length === 0) return result;
    const state = this.container(mine[0].containerId);
    let wanted = name.toLowerCase();
    // "web.<search domain>" (resolvers try search domains first) is "web" when berth knows "web".
    for (const domain of state?.search ?? []) {
      const suffix = `.${domain.toLowerCase().replace(/\.$/, '')}`;
      if (wanted.endsWith(suffix)) {
        const short = wanted.slice(0, -suffix.length);
        const inner = this.resolve(ip, short);
        if (inner.found) return inner;
        wanted = name.toLowerCase();
      }
    }
    const linked = state?.links ? Object.entries(state.links).find(([alias]) => alias.toLowerCase() === wanted)?.[1] : undefined;
    const names = linked ? [wanted, linked.toLowerCase()] : [wanted];
    const networks = this.networks().filter((n) => n.endpoints[mine[0].containerId]);
    for (const net of networks) {
      // A name qualified with the network ("web.myproj_default") is looked up on that network only.
      for (const e of Object.values(net.endpoints)) {
        const aliases = e.aliases.map((a) => a.toLowerCase());
        const hit = names.some((n) => aliases.includes(n) || aliases.some((a) => n === `${a}.${net.name.toLowerCase()}`));
        if (!hit) continue;
        if (!this.running(e)) continue;
        result.found = true;
        if (e.ipv4 && !result.v4.includes(e.ipv4)) result.v4.push(e.ipv4);
        if (e.ipv6 && !result.v6.includes(e.ipv6)) result.v6.push(e.ipv6);
      }
    }
    return result;
  }

  /** Name of the container at `address` as seen by the asker (for PTR queries). */
  reverse(ip: string, address: string): string | undefined {
    const mine = this.asker(ip);
    if (mine.length === 0) return undefined;
    for (const net of this.networks().filter((n) => n.endpoints[mine[0].containerId])) {
      for (const e of Object.values(net.endpoints)) if (e.ipv4 === address || e.ipv6 === address) return `${e.containerName}.${net.name}`;
    }
    return undefined;
  }

  /** Upstream resolvers configured for the asker's container (service `dns`). */
  upstreamsFor(ip: string): string[] {
    const mine = this.asker(ip);
    return mine.length > 0 ? this.container(mine[0].containerId)?.dns ?? [] : [];
  }
}
