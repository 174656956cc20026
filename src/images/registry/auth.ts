/**
 * Registry authentication: parse a 401's WWW-Authenticate challenge, then answer it with Basic
 * credentials or a Bearer token from the challenge's realm (Docker's token protocol). Tokens
 * are cached per realm, service, scope and user until shortly before they expire.
 */
import { RegistryError } from '../../errors.js';
import type { Credentials } from './credentials.js';
import { httpRequest, readBody } from './http.js';

/** One parsed challenge: scheme (`bearer`, `basic`) and its parameters. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header value, e.g. `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let found = pattern.exec(match[2]); found; found = pattern.exec(match[2])) {
    params[found[1].toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3];
  }
  return { scheme: match[1].toLowerCase(), params };
}

/** The Authorization header for Basic auth. */
export function basicAuthorization(credentials: Credentials): string | undefined {
  if (credentials.username === undefined || credentials.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

const tokenCache = new Map<string, { token: string; expiresAt: number }>();

/** Fetches (or reuses) a bearer token answering `challenge` for `scopes`. */
export async function fetchBearerToken(challenge: AuthChallenge, scopes: string[], credentials: Credentials | undefined, imageRef: string, signal?: AbortSignal): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryError(`registry for "${imageRef}" asked for a bearer token without naming a realm`, imageRef, 401);
  const service = challenge.params.service;
  const key = JSON.stringify([realm, service, scopes, credentials?.username ?? '', credentials?.identityToken ? 'id' : '']);
  const cached = tokenCache.get(key);
  if (cached && cached.expiresAt > Date.now()) return cached.token;
  const url = new URL(realm);
  let response;
  if (credentials?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'berth', access_type: 'offline' });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    response = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), signal });
  } else {
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    const basic = credentials ? basicAuthorization(credentials) : undefined;
    if (basic) headers.authorization = basic;
    response = await httpRequest(url, { headers, signal });
  }
  const body = await readBody(response, 1024 * 1024);
  if (response.status === 401 || response.status === 403) {
    throw new RegistryError(`authentication for "${imageRef}" was refused by ${url.host} (HTTP ${response.status})`, imageRef, response.status, {
      hint: credentials ? 'check the user name and password (berth login)' : `log in first: berth login ${url.host}`,
    });
  }
  if (response.status !== 200) {
    throw new RegistryError(`token server ${url.host} answered HTTP ${response.status} for "${imageRef}"`, imageRef, response.status);
  }
  let parsed: { token?: string; access_token?: string; expires_in?: number };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch (err) {
    throw new RegistryError(`token server ${url.host} returned invalid JSON for "${imageRef}"`, imageRef, response.status, { cause: err });
  }
  const token = parsed.token ?? parsed.access_token;
  if (!token) throw new RegistryError(`token server ${url.host} returned no token for "${imageRef}"`, imageRef, response.status);
  // Renew 10 s early so a token never expires between the check and the request using it.
  const lifetimeS = Math.max(parsed.expires_in ?? 60, 20);
  tokenCache.set(key, { token, expiresAt: Date.now() + (lifetimeS - 10) * 1000 });
  return token;
}

/** Forgets cached tokens (tests, and after a login changes who we are). */
export function clearTokenCache(): void {
  tokenCache.clear();
}
