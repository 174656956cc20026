/**
 * The supervisor's control protocol: one JSON line in, one JSON line out, over the unix socket
 * <runRoot>/projects/<project>/supervisor.sock. Requests: `ping` (also tells the supervisor a
 * berth command is working on the project, so it does not exit now), `status`, `stop`.
 */
import net from 'node:net';

/** A request to the supervisor. */
/** `dns`: serve DNS on the project's networks now (before its containers start); answers with the addresses served. */
export type ControlRequest = { cmd: 'ping' } | { cmd: 'status' } | { cmd: 'stop' } | { cmd: 'dns' };

/** Sends one request and resolves with the reply, or undefined when nobody answers within timeoutMs. */
export function controlRequest<T = Record<string, unknown>>(socketPath: string, request: ControlRequest, timeoutMs = 2000): Promise<T | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let data = '';
    const finish = (value: T | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
      const end = data.indexOf('\n');
      if (end === -1) return;
      try {
        finish(JSON.parse(data.slice(0, end)) as T);
      } catch {
        finish(undefined);
      }
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** Serves control requests on `socketPath` with `handle`. */
export function serveControl(socketPath: string, handle: (request: ControlRequest) => Promise<unknown> | unknown): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let data = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      data += chunk;
      const end = data.indexOf('\n');
      if (end === -1) {
        if (data.length > 4096) socket.destroy();
        return;
      }
      let request: ControlRequest;
      try {
        request = JSON.parse(data.slice(0, end)) as ControlRequest;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, error: 'bad request' })}\n`);
        return;
      }
      Promise.resolve(handle(request)).then(
        (reply) => socket.end(`${JSON.stringify(reply)}\n`),
        (err: Error) => socket.end(`${JSON.stringify({ ok: false, error: err.message })}\n`),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
