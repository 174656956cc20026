/**
 * A client for one repository on one registry endpoint, speaking the OCI distribution API v2:
 * manifests, blobs (with Range resume and digest verification), uploads and manifest pushes.
 * Authentication happens on the first 401; network errors, 5xx and 429 are retried with
 * exponential backoff.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat, truncate } from 'node:fs/promises';
import { ImageError, RegistryError } from '../../errors.js';
import { withFileLock, type ImageStore } from '../store/index.js';
import { MediaTypes } from '../types.js';
import { basicAuthorization, fetchBearerToken, parseChallenge } from './auth.js';
import { credentialsFor, type Credentials } from './credentials.js';
import { drain, httpRequest, NetworkError, readBody, type HttpBody, type HttpResponse } from './http.js';
import type { RegistryEndpoint } from './registry-config.js';

/** The Accept header for manifests: every manifest and index type berth understands. */
export const manifestAccept = [MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerManifestList, MediaTypes.dockerManifest].join(', ');

/** Options of a RegistryClient. */
export interface RegistryClientOptions {
  /** The reference as the user wrote it, for error messages. */
  imageRef: string;
  endpoint: RegistryEndpoint;
  /** Repository path, e.g. `library/busybox`. */
  repository: string;
  /** `pull` or `push` (push also pulls); decides the token scope. */
  access: 'pull' | 'push';
  /** Credentials; looked up from the Docker config when undefined, none at all when null. */
  credentials?: Credentials | null;
  /** How many times to retry a failed request (default 4). */
  retries?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** A fetched manifest or index: its exact bytes, media type and digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

class RetryableStatus extends Error {
  constructor(readonly status: number, readonly retryAfterMs?: number) {
    super(`HTTP ${status}`);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('aborted'));
    }, { once: true });
  });
}

function sha(algorithm: string, data: Buffer): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Talks to one repository of one registry endpoint. */
export class RegistryClient {
  private authorization?: string;
  private credentials?: Credentials | null;
  private readonly retries: number;

  constructor(private readonly options: RegistryClientOptions) {
    this.credentials = options.credentials;
    this.retries = options.retries ?? 4;
  }

  /** The endpoint this client talks to. */
  get endpoint(): RegistryEndpoint {
    return this.options.endpoint;
  }

  private url(suffix: string): URL {
    const base = this.options.endpoint.url;
    return new URL(`${base.pathname.replace(/\/$/, '')}/v2/${suffix}`, base);
  }

  private get scope(): string {
    return `repository:${this.options.repository}:${this.options.access === 'push' ? 'pull,push' : 'pull'}`;
  }

  private async lookupCredentials(): Promise<Credentials | undefined> {
    if (this.credentials === undefined) this.credentials = (await credentialsFor(this.options.endpoint.host, this.options.env)) ?? null;
    return this.credentials ?? undefined;
  }

  private async authenticate(header: string | undefined, scoped: boolean): Promise<void> {
    const challenge = parseChallenge(header);
    const credentials = await this.lookupCredentials();
    if (challenge?.scheme === 'bearer') {
      const token = await fetchBearerToken(challenge, scoped ? [this.scope] : [], credentials, this.options.imageRef, this.options.signal);
      this.authorization = `Bearer ${token}`;
      return;
    }
    const basic = credentials ? basicAuthorization(credentials) : undefined;
    if (challenge?.scheme === 'basic' && basic) {
      this.authorization = basic;
      return;
    }
    throw this.authError(401);
  }

  private authError(status: number): RegistryError {
    const host = this.options.endpoint.host;
    return status === 401
      ? new RegistryError(`authentication required to access "${this.options.imageRef}" at ${host}`, this.options.imageRef, 401, {
        hint: this.credentials ? `the stored credentials were refused; run "berth login ${host}" again` : `run "berth login ${host}" first`,
      })
      : new RegistryError(`access to "${this.options.imageRef}" denied by ${host} (HTTP 403)`, this.options.imageRef, 403, {
        hint: 'check that the repository exists and that your account may access it',
      });
  }

  /** One request with authentication and redirects (credentials never follow to another origin). */
  private async send(method: string, start: URL, headers: Record<string, string>, body?: HttpBody, scoped = true): Promise<HttpResponse> {
    let url = start;
    let authRetried = false;
    for (let hop = 0; hop < 8; hop++) {
      const sameOrigin = url.origin === this.options.endpoint.url.origin;
      const sent: Record<string, string> = { ...headers };
      if (sameOrigin && this.authorization) sent.authorization = this.authorization;
      const response = await httpRequest(url, { method, headers: sent, body, signal: this.options.signal });
      if (response.status === 401 && sameOrigin && !authRetried) {
        await drain(response);
        await this.authenticate(response.headers['www-authenticate'], scoped);
        authRetried = true;
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(response.status) && response.headers.location) {
        await drain(response);
        url = new URL(response.headers.location, url);
        if (response.status === 303) method = 'GET';
        continue;
      }
      return response;
    }
    throw new RegistryError(`too many redirects fetching "${this.options.imageRef}" from ${start.host}`, this.options.imageRef);
  }

  /** Retries `attempt` on network errors, 5xx and 429 with exponential backoff. */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let tries = 0; tries <= this.retries; tries++) {
      if (tries > 0) {
        const retryAfter = lastError instanceof RetryableStatus ? lastError.retryAfterMs : undefined;
        const backoff = Math.min(200 * 2 ** (tries - 1), 5000) * (0.75 + Math.random() * 0.5);
        await sleep(Math.min(retryAfter ?? backoff, 10_000), this.options.signal);
      }
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof NetworkError) && !(err instanceof RetryableStatus)) throw err;
        if (this.options.signal?.aborted) throw this.options.signal.reason ?? err;
        lastError = err;
      }
    }
    const host = this.options.endpoint.url.host;
    if (lastError instanceof RetryableStatus) {
      throw new RegistryError(`${what} for "${this.options.imageRef}" failed: ${host} answered HTTP ${lastError.status} ${this.retries + 1} times`, this.options.imageRef, lastError.status, {
        hint: 'the registry is overloaded or broken; try again later',
      });
    }
    throw new RegistryError(`${what} for "${this.options.imageRef}" failed: cannot reach ${host}: ${(lastError as Error).message}`, this.options.imageRef, undefined, {
      cause: lastError,
      hint: 'check the registry address and that it is running; plain HTTP is used only for localhost and registries listed as insecure',
    });
  }

  /** Sends a request and checks its status; other statuses become RegistryErrors (or retries). */
  private async call(what: string, method: string, url: URL, ok: number[], options: { headers?: Record<string, string>; body?: HttpBody; notFound?: string; scoped?: boolean } = {}): Promise<HttpResponse> {
    return this.retrying(what, async () => {
      const response = await this.send(method, url, options.headers ?? {}, options.body, options.scoped ?? true);
      if (ok.includes(response.status)) return response;
      const text = (await readBody(response, 1024 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
      if (response.status >= 500 || response.status === 429) {
        const retryAfter = Number.parseInt(String(response.headers['retry-after'] ?? ''), 10);
        throw new RetryableStatus(response.status, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
      }
      if (response.status === 401 || response.status === 403) throw this.authError(response.status);
      if (response.status === 404 && options.notFound) throw new RegistryError(options.notFound, this.options.imageRef, 404);
      let detail = text.trim().slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
        if (parsed.errors?.length) detail = parsed.errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
      } catch {
        // not JSON: keep the text
      }
      throw new RegistryError(`${what} for "${this.options.imageRef}" failed: HTTP ${response.status}${detail ? ` (${detail})` : ''}`, this.options.imageRef, response.status);
    });
  }

  /** Checks that the endpoint answers the API and that our credentials are accepted. */
  async ping(): Promise<void> {
    const response = await this.call('contacting the registry', 'GET', this.url(''), [200], { scoped: false });
    await drain(response);
  }

  /** Fetches a manifest or index by tag or digest; verifies it when asked by digest. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const response = await this.call('fetching the manifest', 'GET', this.url(`${this.options.repository}/manifests/${reference}`), [200], {
      headers: { accept: manifestAccept },
      notFound: `image "${this.options.imageRef}" not found at ${this.options.endpoint.url.host}: no manifest "${reference}" in repository "${this.options.repository}"`,
    });
    const bytes = await readBody(response, 8 * 1024 * 1024);
    const headerDigest = response.headers['docker-content-digest'];
    const wanted = reference.includes(':') ? reference : typeof headerDigest === 'string' ? headerDigest : undefined;
    const algorithm = wanted?.split(':')[0] === 'sha512' ? 'sha512' : 'sha256';
    const digest = sha(algorithm, bytes);
    if (wanted && wanted !== digest) {
      throw new RegistryError(`manifest of "${this.options.imageRef}" has digest ${digest}, expected ${wanted}`, this.options.imageRef, response.status, {
        hint: 'the registry or something between it and berth altered the manifest; nothing was stored',
      });
    }
    let mediaType = String(response.headers['content-type'] ?? '').split(';')[0].trim();
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number };
      if (parsed.schemaVersion === 1) {
        throw new RegistryError(`image "${this.options.imageRef}" uses the obsolete Docker schema 1 manifest format`, this.options.imageRef, undefined, { hint: 'push the image again with a current tool' });
      }
      if (parsed.mediaType) mediaType = parsed.mediaType;
      else if (!mediaType || mediaType === 'application/json') mediaType = Array.isArray(parsed.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError(`manifest of "${this.options.imageRef}" is not valid JSON`, this.options.imageRef, undefined, { cause: err });
    }
    return { bytes, mediaType, digest };
  }

  /**
   * Downloads blob `digest` into the store, resuming a partial download left by an earlier
   * attempt with a Range request. The content is hashed as it arrives; on mismatch nothing is kept.
   */
  async downloadBlob(store: ImageStore, digest: string, size: number | undefined, onBytes?: (done: number) => void): Promise<void> {
    if (await store.hasBlob(digest)) return;
    const partial = store.partialPath(digest);
    const algorithm = digest.split(':')[0];
    // One download per blob at a time, across processes too: they would share the partial file.
    await withFileLock(`${partial}.lock`, async () => {
      if (await store.hasBlob(digest)) return;
      await this.fetchBlobInto(store, partial, algorithm, digest, size, onBytes);
    }, 6 * 3600_000);
  }

  private async fetchBlobInto(store: ImageStore, partial: string, algorithm: string, digest: string, size: number | undefined, onBytes?: (done: number) => void): Promise<void> {
    await this.retrying('downloading a blob', async () => {
      let offset = (await stat(partial).catch(() => undefined))?.size ?? 0;
      if (size !== undefined && offset > size) {
        await truncate(partial, 0);
        offset = 0;
      }
      let hash = createHash(algorithm);
      if (offset > 0) for await (const chunk of createReadStream(partial, { end: offset - 1 })) hash.update(chunk as Buffer);
      if (offset === 0 || size === undefined || offset < size) {
        const response = await this.call('downloading a blob', 'GET', this.url(`${this.options.repository}/blobs/${digest}`), [200, 206], {
          headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
          notFound: `blob ${digest} of "${this.options.imageRef}" is missing at ${this.options.endpoint.url.host}`,
        });
        const range = String(response.headers['content-range'] ?? '');
        if (offset > 0 && (response.status !== 206 || !range.startsWith(`bytes ${offset}-`))) {
          // The server ignored the range and sends everything: start the file over.
          offset = 0;
          hash = createHash(algorithm);
        }
        await this.receive(response, partial, offset, hash, onBytes);
      }
      await this.finishDownload(store, partial, hash.digest('hex'), algorithm, digest, size);
    });
  }

  private async receive(response: HttpResponse, partial: string, offset: number, hash: ReturnType<typeof createHash>, onBytes?: (done: number) => void): Promise<void> {
    const out = createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' });
    let done = offset;
    onBytes?.(done);
    try {
      await new Promise<void>((resolve, reject) => {
        response.body.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          done += chunk.length;
          onBytes?.(done);
          if (!out.write(chunk)) {
            response.body.pause();
            out.once('drain', () => response.body.resume());
          }
        });
        response.body.on('end', () => out.end(resolve));
        response.body.on('aborted', () => reject(new NetworkError(`connection closed after ${done} bytes`, response.url.href)));
        response.body.on('error', (err) => reject(err instanceof NetworkError ? err : new NetworkError(`download interrupted after ${done} bytes: ${err.message}`, response.url.href, { cause: err })));
        out.on('error', reject);
      });
      if (!response.body.complete) throw new NetworkError(`connection closed after ${done} bytes`, response.url.href);
    } finally {
      if (!out.closed) await new Promise<void>((resolve) => out.end(resolve));
    }
  }

  private async finishDownload(store: ImageStore, partial: string, hex: string, algorithm: string, digest: string, size: number | undefined): Promise<void> {
    const actual = `${algorithm}:${hex}`;
    const actualSize = (await stat(partial)).size;
    if (actual !== digest || (size !== undefined && actualSize !== size)) {
      await rm(partial, { force: true });
      throw new RegistryError(`blob ${digest} of "${this.options.imageRef}" failed verification: received ${actualSize} bytes with digest ${actual}`, this.options.imageRef, undefined, {
        hint: 'the registry or something between it and berth corrupted the data; nothing was stored',
      });
    }
    try {
      await store.commitBlobFile(partial, { digest, size }, { digest: actual, size: actualSize });
    } catch (err) {
      if (err instanceof ImageError) throw new RegistryError(err.message, this.options.imageRef, undefined, { cause: err });
      throw err;
    }
  }

  /** True when the repository already holds blob `digest`. */
  async blobExists(digest: string): Promise<boolean> {
    const response = await this.call('checking a blob', 'HEAD', this.url(`${this.options.repository}/blobs/${digest}`), [200, 404]);
    await drain(response);
    return response.status === 200;
  }

  /**
   * Uploads stored blob `digest`: tries a cross-repository mount when `mountFrom` names a repository
   * on the same registry, else POST + PUT (monolithic), or PATCH chunks of `chunkSize` then PUT.
   */
  async uploadBlob(store: ImageStore, digest: string, options: { chunkSize?: number; mountFrom?: string; onBytes?: (done: number) => void } = {}): Promise<'mounted' | 'uploaded'> {
    const file = store.blobPath(digest);
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === undefined) throw new ImageError(`blob ${digest} is not in the image store, so it cannot be pushed`, this.options.imageRef, { hint: 'pull the image again' });
    return this.retrying('uploading a blob', async () => {
      const start = this.url(`${this.options.repository}/blobs/uploads/`);
      if (options.mountFrom) {
        start.searchParams.set('mount', digest);
        start.searchParams.set('from', options.mountFrom);
      }
      const begun = await this.call('starting an upload', 'POST', start, [201, 202], { body: Buffer.alloc(0) });
      await drain(begun);
      if (begun.status === 201) return 'mounted';
      let location = new URL(String(begun.headers.location ?? ''), start);
      const chunkSize = options.chunkSize;
      if (chunkSize && size > chunkSize) {
        for (let offset = 0; offset < size; offset += chunkSize) {
          const end = Math.min(offset + chunkSize, size) - 1;
          const patched = await this.call('uploading a chunk', 'PATCH', location, [202], {
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}` },
            body: { open: () => createReadStream(file, { start: offset, end }), length: end - offset + 1 },
          });
          await drain(patched);
          location = new URL(String(patched.headers.location ?? location.href), location);
          options.onBytes?.(end + 1);
        }
        location.searchParams.set('digest', digest);
        const finished = await this.call('finishing an upload', 'PUT', location, [201], { body: Buffer.alloc(0) });
        await drain(finished);
        return 'uploaded';
      }
      location.searchParams.set('digest', digest);
      const finished = await this.call('uploading a blob', 'PUT', location, [201], {
        headers: { 'content-type': 'application/octet-stream' },
        body: { open: () => createReadStream(file), length: size },
      });
      await drain(finished);
      options.onBytes?.(size);
      return 'uploaded';
    });
  }

  /** Uploads a manifest or index under `reference` (tag or digest); returns the registry's digest for it. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const response = await this.call('pushing the manifest', 'PUT', this.url(`${this.options.repository}/manifests/${reference}`), [200, 201], {
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    await drain(response);
    return String(response.headers['docker-content-digest'] ?? sha('sha256', bytes));
  }
}
