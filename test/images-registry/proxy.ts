/**
 * A tiny HTTP proxy in front of a test registry that misbehaves on purpose: it can flip one
 * byte of a blob (digest verification must catch it) or cut the connection in the middle of a
 * blob once (the next attempt must resume with a Range request).
 */
import http from 'node:http';
import type net from 'node:net';
import type { AfterHost } from '../helpers/registry.js';

/** How the proxy misbehaves. */
export interface ProxyBehavior {
  /** Flip a byte in the middle of this blob on every download. */
  corruptBlob?: string;
  /** Close the connection after this many body bytes of this blob, the first time only. */
  cutBlobOnce?: { digest: string; afterBytes: number };
  /** Answer the first N requests to /v2/<name>/... with this status (503, 429). */
  failFirst?: { count: number; status: number };
}

/** A running proxy: its host:port and the requests it saw. */
export interface TestProxy {
  host: string;
  requests: { method: string; path: string; range?: string; status?: number }[];
}

/** Starts a proxy to `target` (host:port) on 127.0.0.1; closed in `host.after`. */
export async function startProxy(host: AfterHost, target: string, behavior: ProxyBehavior): Promise<TestProxy> {
  const [targetHost, targetPort] = target.split(':');
  const requests: TestProxy['requests'] = [];
  let cut = false;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const record: TestProxy['requests'][number] = { method: request.method ?? 'GET', path: request.url ?? '/', range: request.headers.range };
    requests.push(record);
    if (behavior.failFirst && behavior.failFirst.count > 0 && /^\/v2\/.+/.test(request.url ?? '')) {
      behavior.failFirst.count--;
      record.status = behavior.failFirst.status;
      response.writeHead(behavior.failFirst.status, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    const upstream = http.request({ host: targetHost, port: Number(targetPort), method: request.method, path: request.url, headers: { ...request.headers, host: target } }, (reply) => {
      record.status = reply.statusCode;
      const isBlob = request.method === 'GET' && /\/blobs\/sha256:/.test(request.url ?? '');
      const digest = isBlob ? (request.url ?? '').split('/blobs/')[1] : undefined;
      if (digest && digest === behavior.corruptBlob && reply.statusCode === 200) {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => {
          const body = Buffer.concat(chunks);
          body[Math.floor(body.length / 2)] ^= 0xff;
          response.writeHead(200, reply.headers).end(body);
        });
        return;
      }
      if (digest && behavior.cutBlobOnce?.digest === digest && !cut && reply.statusCode === 200) {
        cut = true;
        response.writeHead(200, reply.headers);
        let sent = 0;
        reply.on('data', (chunk: Buffer) => {
          if (sent >= behavior.cutBlobOnce!.afterBytes) return;
          const part = chunk.subarray(0, behavior.cutBlobOnce!.afterBytes - sent);
          sent += part.length;
          response.write(part);
          if (sent >= behavior.cutBlobOnce!.afterBytes) {
            reply.destroy();
            // Let the bytes reach the client, then drop the connection mid-body.
            setTimeout(() => response.socket?.destroy(), 50);
          }
        });
        return;
      }
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}
