/**
 * A small HTTP client over node:http/https: streamed request and response bodies, keep-alive
 * agents, idle timeouts, abort signals. Registries need control fetch() makes awkward: manual
 * redirects (credentials must not follow a redirect to a blob CDN), Range resumes and streamed
 * uploads with a known Content-Length.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/** A response whose body has not been read yet. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  url: URL;
  body: http.IncomingMessage;
}

/** A request body: bytes, or a function opening a fresh stream (so the request can be repeated). */
export type HttpBody = Buffer | { open: () => Readable; length: number };

/** Options of one request. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: HttpBody;
  signal?: AbortSignal;
  /** Fail when no byte moves for this long (connect, headers or body). */
  idleTimeoutMs?: number;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

/** A network-level failure (connection refused/reset, timeout): worth retrying. */
export class NetworkError extends Error {
  constructor(message: string, readonly url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

/** Sends one request and resolves when the response headers arrive. */
export function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const headers: Record<string, string> = { 'user-agent': 'berth', ...options.headers };
  const body = options.body;
  if (body !== undefined) headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpResponse>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason ?? new Error('aborted'));
      return;
    }
    const request = client.request(url, {
      method: options.method ?? 'GET',
      headers,
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      signal: options.signal,
    });
    request.setTimeout(idleTimeoutMs, () => request.destroy(new NetworkError(`no response from ${url.host} for ${idleTimeoutMs / 1000}s`, url.href)));
    request.on('error', (err) => {
      if (options.signal?.aborted) reject(options.signal.reason ?? err);
      else reject(err instanceof NetworkError ? err : new NetworkError(`${options.method ?? 'GET'} ${url.href}: ${err.message}`, url.href, { cause: err }));
    });
    request.on('response', (response) => {
      response.setTimeout(idleTimeoutMs, () => response.destroy(new NetworkError(`download from ${url.host} stalled for ${idleTimeoutMs / 1000}s`, url.href)));
      resolve({ status: response.statusCode ?? 0, headers: response.headers, url, body: response });
    });
    if (body === undefined) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else {
      const stream = body.open();
      stream.on('error', (err) => request.destroy(err));
      stream.pipe(request);
    }
  });
}

/** Reads a whole response body (bounded: registries' JSON is small, `limit` guards the rest). */
export async function readBody(response: HttpResponse, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        response.body.destroy();
        throw new NetworkError(`response from ${response.url.href} is larger than ${limit} bytes`, response.url.href);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    throw new NetworkError(`reading ${response.url.href}: ${(err as Error).message}`, response.url.href, { cause: err });
  }
  return Buffer.concat(chunks);
}

/** Discards a response body so its connection can be reused. */
export async function drain(response: HttpResponse): Promise<void> {
  await readBody(response, 16 * 1024 * 1024).catch(() => undefined);
}
