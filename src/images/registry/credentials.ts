/**
 * Registry credentials as Docker keeps them: `$DOCKER_CONFIG/config.json` (default
 * ~/.docker/config.json) with `auths` entries (base64 "user:password"), per-registry
 * `credHelpers` and a default `credsStore`, both run as `docker-credential-<name> get|store|erase`
 * with the server on stdin, so berth sees the same logins as docker.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryError } from '../../errors.js';
import { writeFileAtomic } from '../store/index.js';
import { dockerHubApiHost, dockerHubDomain } from '../reference.js';

/** Credentials for one registry: a user and password, or an identity (refresh) token. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

/** The key Docker uses for Docker Hub in config.json and with credential helpers. */
export const dockerHubAuthKey = 'https://index.docker.io/v1/';

/** Path of the Docker client config file berth reads and `berth login` writes. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

function readDockerConfig(env: NodeJS.ProcessEnv): DockerConfigFile {
  const file = dockerConfigPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (err) {
    throw new RegistryError(`docker config "${file}" is not valid JSON`, '', undefined, { cause: err, hint: 'fix or remove the file, then run "berth login" again' });
  }
}

/** The server name a registry host is stored under: Docker Hub keeps its historic URL. */
export function authServerKey(registry: string): string {
  return registry === dockerHubDomain || registry === 'index.docker.io' || registry === dockerHubApiHost ? dockerHubAuthKey : registry;
}

function keyMatches(key: string, registry: string): boolean {
  const stripped = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  const hub = (host: string) => host === dockerHubDomain || host === 'index.docker.io' || host === dockerHubApiHost;
  return stripped === registry || (hub(stripped) && hub(registry));
}

function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new RegistryError(`credential helper "docker-credential-${helper}" could not be run: ${err.message}`, '', undefined, {
        hint: `install docker-credential-${helper} on the PATH or remove it from ${dockerConfigPath(env)}`,
      }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) if (keyMatches(key, registry)) return helper;
  return config.credsStore || undefined;
}

/** Looks up credentials for `registry` (a host like `localhost:5000` or `docker.io`); undefined when none. */
export async function credentialsFor(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const config = readDockerConfig(env);
  const helper = helperFor(config, registry);
  if (helper) {
    const result = await runHelper(helper, 'get', authServerKey(registry), env);
    if (result.code === 0) {
      try {
        const parsed = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
        if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
        if (parsed.Secret) return { username: parsed.Username, password: parsed.Secret };
      } catch (err) {
        throw new RegistryError(`credential helper "docker-credential-${helper}" printed invalid JSON`, registry, undefined, { cause: err });
      }
    } else if (!/not found/i.test(result.stdout + result.stderr)) {
      throw new RegistryError(`credential helper "docker-credential-${helper}" failed for "${registry}": ${(result.stderr || result.stdout).trim()}`, registry);
    }
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (!keyMatches(key, registry)) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new RegistryError(`auth entry for "${key}" in ${dockerConfigPath(env)} is not base64 "user:password"`, registry);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Saves credentials for `registry`: through its credential helper if one is configured, else base64 in config.json. */
export async function storeCredentials(registry: string, credentials: { username: string; password: string }, env: NodeJS.ProcessEnv = process.env): Promise<{ file: string; helper?: string }> {
  const config = readDockerConfig(env);
  const helper = helperFor(config, registry);
  const key = authServerKey(registry);
  if (helper) {
    const result = await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.password }), env);
    if (result.code !== 0) throw new RegistryError(`credential helper "docker-credential-${helper}" could not store credentials: ${(result.stderr || result.stdout).trim()}`, registry);
    config.auths = { ...config.auths, [key]: {} };
  } else {
    config.auths = { ...config.auths, [key]: { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') } };
  }
  const file = dockerConfigPath(env);
  await writeFileAtomic(file, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return { file, helper };
}

/** Removes stored credentials for `registry`; returns false when there were none. */
export async function eraseCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const config = readDockerConfig(env);
  const helper = helperFor(config, registry);
  let found = false;
  if (helper) {
    const result = await runHelper(helper, 'erase', authServerKey(registry), env);
    found = result.code === 0;
  }
  for (const key of Object.keys(config.auths ?? {})) {
    if (keyMatches(key, registry)) {
      delete config.auths![key];
      found = true;
    }
  }
  if (found) await writeFileAtomic(dockerConfigPath(env), `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return found;
}
