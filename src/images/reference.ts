/**
 * Image references parsed and normalized the way Docker does: `busybox` is
 * `docker.io/library/busybox:latest`, the first path component is a registry host only when it
 * looks like one (has a dot or a port, or is `localhost`), and a digest pins the content.
 */
import { ImageError } from '../errors.js';

/** The Docker Hub registry domain in normalized references. */
export const dockerHubDomain = 'docker.io';
/** Where Docker Hub's registry API actually lives. */
export const dockerHubApiHost = 'registry-1.docker.io';

/** A parsed, normalized image reference. */
export interface ImageReference {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  readonly path: string;
  /** Tag; `latest` when neither tag nor digest was given. */
  readonly tag?: string;
  /** Content digest `sha256:<hex>` when pinned. */
  readonly digest?: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const hostLabel = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(`^(?:${hostLabel}(?:\\.${hostLabel})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);

function invalid(input: string, why: string): ImageError {
  return new ImageError(`invalid reference format "${input}": ${why}`, input, {
    hint: 'references look like "busybox", "busybox:1.36", "localhost:5000/team/app:tag" or "name@sha256:<64 hex>"',
  });
}

/** Parses and normalizes `input`; throws ImageError naming the rule that was broken. */
export function parseReference(input: string): ImageReference {
  if (input.length === 0) throw invalid(input, 'empty reference');
  if (/\s/.test(input)) throw invalid(input, 'contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw invalid(input, `"${digest}" is not a digest (algorithm:hex)`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(input, 'a sha256 digest has 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid(input, `tag "${tag}" may hold only letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-")`);
  }
  if (rest.length === 0) throw invalid(input, 'missing repository name');
  let domain = dockerHubDomain;
  let repoPath = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      repoPath = rest.slice(firstSlash + 1);
      if (!domainPattern.test(domain)) throw invalid(input, `"${domain}" is not a valid registry host`);
    }
  }
  if (domain === 'index.docker.io') domain = dockerHubDomain;
  if (repoPath !== repoPath.toLowerCase()) throw invalid(input, 'repository name must be lowercase');
  for (const component of repoPath.split('/')) {
    if (!pathComponent.test(component)) {
      throw invalid(input, `path component "${component}" may hold only lowercase letters, digits and single separators (".", "_", "__", "-")`);
    }
  }
  if (domain === dockerHubDomain && !repoPath.includes('/')) repoPath = `library/${repoPath}`;
  if (`${domain}/${repoPath}`.length > 255) throw invalid(input, 'repository name longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path: repoPath, tag, digest };
}

/** `domain/path`: the repository, without tag or digest. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalized text: `docker.io/library/busybox:latest`, `host:5000/a@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Normalizes reference text: `busybox` becomes `docker.io/library/busybox:latest`. */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/** The repository as users write it: `busybox` for Docker Hub's library, `team/app`, `localhost:5000/app`. */
export function familiarRepository(ref: ImageReference): string {
  if (ref.domain !== dockerHubDomain) return repositoryName(ref);
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
}

/** The short display form of a reference: `busybox:latest`, `team/app@sha256:...`. */
export function familiarReference(ref: ImageReference | string): string {
  const parsed = typeof ref === 'string' ? parseReference(ref) : ref;
  return `${familiarRepository(parsed)}${parsed.tag !== undefined ? `:${parsed.tag}` : ''}${parsed.digest !== undefined ? `@${parsed.digest}` : ''}`;
}

/** True when `input` is a (possibly short) image id or digest rather than a name: hex, `sha256:hex`. */
export function looksLikeImageId(input: string): boolean {
  return /^(?:sha256:)?[a-f0-9]{4,64}$/.test(input);
}
