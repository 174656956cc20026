/**
 * Starts Debian's `docker-registry` (distribution v2) on 127.0.0.1 for tests: its own temp
 * storage and config, optional htpasswd or token auth (with a small token server that signs
 * RS256 JWTs itself), waits until /v2/ answers, and stops everything by pid in t.after.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** The registry binary installed by Debian's docker-registry package. */
export const registryBinary = '/usr/bin/docker-registry';

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, usable as the registry part of a reference. */
  host: string;
  url: string;
  dir: string;
  /** Requests the token server answered (token auth only). */
  tokenRequests: { scope: string[]; user?: string }[];
  /** Text the registry logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Options of startRegistry. */
export interface RegistryTestOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  username?: string;
  password?: string;
}

/** Something with an `after` hook (node:test's TestContext or SuiteContext). */
export interface AfterHost {
  after(fn: () => unknown): void;
}

/** A free TCP port on 127.0.0.1 (bound and released; fine for tests on one machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** The key id distribution computes for a public key (libtrust format: SHA-256 of the DER, 240 bits, base32 in groups of 4). */
function libtrustKeyId(publicDer: Buffer): string {
  const digest = createHash('sha256').update(publicDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

async function startTokenServer(dir: string, options: RegistryTestOptions, requests: TestRegistry['tokenRequests']): Promise<{ url: string; server: http.Server; certFile: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = path.join(dir, 'token-key.pem');
  const certFile = path.join(dir, 'token-cert.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  execFileSync('openssl', ['req', '-x509', '-new', '-key', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=berth-test-token'], { stdio: 'ignore' });
  const cert = new X509Certificate(readFileSync(certFile));
  const kid = libtrustKeyId(cert.publicKey.export({ type: 'spki', format: 'der' }));
  const signingKey = createPrivateKey(readFileSync(keyFile));
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const header = request.headers.authorization ?? '';
    let user: string | undefined;
    if (header.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      if (name !== options.username || rest.join(':') !== options.password) {
        response.writeHead(401).end('{"details":"bad credentials"}');
        return;
      }
      user = name;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ scope: scopes, user });
    const access = scopes.map((scope) => {
      const [type, ...rest] = scope.split(':');
      const actions = rest.pop() ?? '';
      // Anonymous callers may pull but not push, like a public registry.
      return { type, name: rest.join(':'), actions: actions.split(',').filter((action) => user !== undefined || action === 'pull') };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
    const claims = base64url(JSON.stringify({ iss: 'berth-test-issuer', sub: user ?? '', aud: 'berth-test', exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = base64url(sign('sha256', Buffer.from(`${head}.${claims}`), signingKey));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token`, server, certFile };
}

/** Starts a registry; it is stopped and its files removed when the test (or suite) ends. */
export async function startRegistry(host: AfterHost, options: RegistryTestOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync('/tmp/berth-registry-');
  // Registered first, so a failure while starting still removes everything.
  let child: ChildProcess | undefined;
  let tokenServer: http.Server | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child && child.exitCode === null && child.pid !== undefined) {
      const running = child;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      process.kill(running.pid!, 'SIGTERM');
      const timer = setTimeout(() => { if (running.exitCode === null) process.kill(running.pid!, 'SIGKILL'); }, 3000);
      await exited;
      clearTimeout(timer);
    }
    if (tokenServer) await new Promise<void>((resolve) => tokenServer!.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  host.after(stop);
  const port = await freePort();
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  const auth: string[] = [];
  if (options.auth === 'htpasswd') {
    const line = execFileSync('htpasswd', ['-Bbn', options.username ?? 'user', options.password ?? 'pass'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(dir, 'htpasswd'), `${line}\n`);
    auth.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${path.join(dir, 'htpasswd')}`);
  } else if (options.auth === 'token') {
    const token = await startTokenServer(dir, options, tokenRequests);
    tokenServer = token.server;
    auth.push('auth:', '  token:', `    realm: ${token.url}`, '    service: berth-test', '    issuer: berth-test-issuer', `    rootcertbundle: ${token.certFile}`);
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...auth,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'config.yml'), config);
  const logFile = path.join(dir, 'registry.log');
  const logFd = openSync(logFile, 'a');
  child = spawn(registryBinary, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${log()}`);
    const status = await new Promise<number>((resolve) => {
      const request = http.get(`http://127.0.0.1:${port}/v2/`, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', () => resolve(0));
    });
    if (status === 200 || status === 401) break;
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, dir, tokenRequests, log, stop };
}
