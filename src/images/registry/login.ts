/** `berth login` / `berth logout`: verify credentials against the registry, then store or erase them. */
import { UsageError } from '../../errors.js';
import { dockerHubDomain } from '../reference.js';
import { clearTokenCache } from './auth.js';
import { RegistryClient } from './client.js';
import { eraseCredentials, storeCredentials } from './credentials.js';
import { loadRegistryConfig, registryEndpoints } from './registry-config.js';

/** The registry host named by a login argument: `localhost:5000`, `https://host/`, default docker.io. */
export function loginServer(server: string | undefined): string {
  if (!server) return dockerHubDomain;
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  if (!host) throw new UsageError(`invalid registry server "${server}"`, { hint: 'name a registry host, e.g. "localhost:5000"' });
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? dockerHubDomain : host;
}

/** Checks `username`/`password` against `server` (GET /v2/, answering its challenge) and stores them; returns the config file and the helper used, if any. */
export async function loginRegistry(server: string, credentials: { username: string; password: string }, env: NodeJS.ProcessEnv = process.env): Promise<{ file: string; helper?: string }> {
  const host = loginServer(server);
  const endpoint = registryEndpoints(host, loadRegistryConfig(env), 'push')[0];
  clearTokenCache();
  const client = new RegistryClient({ imageRef: host, endpoint, repository: '', access: 'pull', credentials, retries: 1, env });
  await client.ping();
  return storeCredentials(host, credentials, env);
}

/** Erases stored credentials for `server`; false when there were none. */
export async function logoutRegistry(server: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return eraseCredentials(loginServer(server), env);
}
