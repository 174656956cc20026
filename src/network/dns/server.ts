/**
 * The project's DNS server, hosted by the supervisor. It listens (UDP and TCP, port 53) on the
 * gateway address of each bridge the project's containers use, which is the `nameserver` of
 * their resolv.conf. It identifies the asking container by its source address and answers A and
 * AAAA for the service names, container names, hostnames and aliases of containers on the
 * networks the asker shares with them (all replicas, rotated per query). Single-label names it
 * does not know get NXDOMAIN; other names go to the container's `dns` servers or the host's
 * resolvers, SERVFAIL when those do not answer in time.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { ipVersion } from '../../ip.js';
import { stateRoot } from '../../paths.js';
import { readResolvConf } from '../host.js';
import { Directory } from './directory.js';
import { buildResponse, errorForRaw, parseQuery, QTYPE, RCODE, type DnsAnswer } from './wire.js';

/** Options of startDnsServer. */
export interface DnsServerOptions {
  project: string;
  /** State root (default stateRoot(env)). */
  root?: string;
  /** Environment (BERTH_ROOT, BERTH_DNS_UPSTREAM); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Port to listen on (default 53; tests may use another). */
  port?: number;
  /** How often to look for new or removed bridges, ms (default 1000). */
  rescanMs?: number;
  /** Upstream resolvers ("addr" or "addr:port"); default BERTH_DNS_UPSTREAM or the host's /etc/resolv.conf. */
  upstreams?: string[];
  /** Time to wait for an upstream before answering SERVFAIL (default 2000 ms). */
  upstreamTimeoutMs?: number;
}

/** A running DNS server. */
export interface DnsServerHandle {
  /** Addresses currently served ("ip:port"). */
  addresses(): string[];
  /** Rescans the networks now (binds new gateways). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

interface Listener { udp: dgram.Socket; tcp: net.Server }

function parseUpstream(text: string): { host: string; port: number } {
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1], port: Number(v6[2] ?? 53) };
  if (ipVersion(text) === 6) return { host: text, port: 53 };
  const [host, port] = text.split(':');
  return { host, port: Number(port ?? 53) };
}

/** Starts the DNS server of `project`; it keeps following the state on disk until closed. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServerHandle> {
  const env = options.env ?? process.env;
  const root = options.root ?? stateRoot(env);
  const port = options.port ?? 53;
  const directory = new Directory(root);
  const listeners = new Map<string, Listener>();
  const rotation = new Map<string, number>();
  const timeoutMs = options.upstreamTimeoutMs ?? 2000;
  let closed = false;

  const defaultUpstreams = (): string[] => {
    if (options.upstreams) return options.upstreams;
    const configured = env.BERTH_DNS_UPSTREAM;
    if (configured !== undefined) return configured.split(',').map((s) => s.trim()).filter(Boolean);
    return readResolvConf().nameservers;
  };

  function rotate<T>(key: string, list: T[]): T[] {
    if (list.length < 2) return list;
    const n = rotation.get(key) ?? 0;
    rotation.set(key, n + 1);
    const k = n % list.length;
    return [...list.slice(k), ...list.slice(0, k)];
  }

  function forward(msg: Buffer, upstreams: string[]): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const targets = upstreams.map(parseUpstream).filter((u) => u.host);
      if (targets.length === 0) { resolve(undefined); return; }
      let index = 0;
      const tryNext = (): void => {
        if (index >= targets.length) { resolve(undefined); return; }
        const target = targets[index++];
        const socket = dgram.createSocket(ipVersion(target.host) === 6 ? 'udp6' : 'udp4');
        let done = false;
        const finish = (reply: Buffer | undefined): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          socket.close();
          if (reply) resolve(reply); else tryNext();
        };
        const timer = setTimeout(() => finish(undefined), Math.max(200, Math.floor(timeoutMs / targets.length)));
        socket.on('error', () => finish(undefined));
        socket.on('message', (reply) => finish(reply));
        // Connected, so an unreachable resolver fails at once (ICMP port unreachable).
        socket.connect(target.port, target.host, () => socket.send(msg, (err) => { if (err) finish(undefined); }));
      };
      tryNext();
    });
  }

  async function answer(msg: Buffer, from: string): Promise<Buffer | undefined> {
    const query = parseQuery(msg);
    if (!query) return errorForRaw(msg, RCODE.FORMERR);
    if (query.opcode !== 0) return buildResponse(msg, query, RCODE.NOTIMP);
    const { name, qtype } = query;
    if (qtype === QTYPE.PTR) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
      if (m) {
        const target = directory.reverse(from, `${m[4]}.${m[3]}.${m[2]}.${m[1]}`);
        if (target) return buildResponse(msg, query, RCODE.NOERROR, [{ ptr: target }]);
      }
    } else {
      const found = directory.resolve(from, name);
      if (found.found) {
        const answers: DnsAnswer[] = [];
        if (qtype === QTYPE.A || qtype === QTYPE.ANY) answers.push(...rotate(`4/${name}`, found.v4).map((address) => ({ address })));
        if (qtype === QTYPE.AAAA || qtype === QTYPE.ANY) answers.push(...rotate(`6/${name}`, found.v6).map((address) => ({ address })));
        return buildResponse(msg, query, RCODE.NOERROR, answers);
      }
      if (!name.includes('.')) return buildResponse(msg, query, RCODE.NXDOMAIN);
    }
    const own = directory.upstreamsFor(from);
    const reply = await forward(msg, own.length > 0 ? own : defaultUpstreams());
    return reply ?? buildResponse(msg, query, RCODE.SERVFAIL);
  }

  function listen(address: string): Promise<Listener | undefined> {
    return new Promise((resolve) => {
      const udp = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
      const tcp = net.createServer((socket) => {
        let buffered = Buffer.alloc(0);
        socket.on('error', () => socket.destroy());
        socket.setTimeout(10_000, () => socket.destroy());
        socket.on('data', (chunk) => {
          buffered = Buffer.concat([buffered, chunk]);
          while (buffered.length >= 2) {
            const len = buffered.readUInt16BE(0);
            if (buffered.length < 2 + len) break;
            const msg = buffered.subarray(2, 2 + len);
            buffered = buffered.subarray(2 + len);
            void answer(msg, socket.remoteAddress ?? '').then((reply) => {
              if (!reply || socket.destroyed) return;
              const prefix = Buffer.alloc(2);
              prefix.writeUInt16BE(reply.length);
              socket.write(Buffer.concat([prefix, reply]));
            });
          }
        });
      });
      udp.on('message', (msg, rinfo) => {
        void answer(msg, rinfo.address).then((reply) => {
          if (reply && !closed) udp.send(reply, rinfo.port, rinfo.address, () => undefined);
        }).catch((err) => { if (env.BERTH_DNS_DEBUG) process.stderr.write(`dns: ${(err as Error).stack}\n`); });
      });
      let failed = false;
      const fail = (): void => {
        if (failed) return;
        failed = true;
        try { udp.close(); } catch { /* not bound */ }
        tcp.close();
        resolve(undefined);
      };
      udp.once('error', fail);
      tcp.once('error', fail);
      udp.bind({ address, port, exclusive: true }, () => {
        tcp.listen({ host: address, port, exclusive: true }, () => {
          if (failed) return;
          udp.removeListener('error', fail);
          tcp.removeListener('error', fail);
          udp.on('error', () => undefined);
          tcp.on('error', () => undefined);
          resolve({ udp, tcp });
        });
      });
    });
  }

  function wanted(): string[] {
    const addresses = new Set<string>();
    for (const netState of directory.networks()) {
      const mine = netState.project === options.project || Object.values(netState.endpoints).some((e) => e.project === options.project);
      if (!mine) continue;
      addresses.add(netState.gateway);
      if (netState.gateway6) addresses.add(netState.gateway6);
    }
    return [...addresses];
  }

  let refreshing: Promise<void> | undefined;
  async function refresh(): Promise<void> {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      const want = new Set(wanted());
      for (const [address, l] of listeners) {
        if (want.has(address)) continue;
        listeners.delete(address);
        l.udp.close();
        l.tcp.close();
      }
      for (const address of want) {
        if (listeners.has(address) || closed) continue;
        // Not yet up, or another project's server already serves a shared network: try again later.
        const l = await listen(address);
        if (l && closed) { l.udp.close(); l.tcp.close(); } else if (l) listeners.set(address, l);
      }
    })().finally(() => { refreshing = undefined; });
    return refreshing;
  }

  await refresh();
  const timer = setInterval(() => { void refresh(); }, options.rescanMs ?? 1000);
  timer.unref();
  return {
    addresses: () => [...listeners.keys()].map((a) => `${a}:${port}`),
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await refreshing;
      for (const l of listeners.values()) {
        l.udp.close();
        await new Promise<void>((r) => l.tcp.close(() => r()));
      }
      listeners.clear();
    },
  };
}
