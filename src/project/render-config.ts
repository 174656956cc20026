/** The text `berth config` prints for each of its modes (document, lists, hashes, environment). */
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { namesHint, serviceConfigHash, sortedData, toComposeDocument, type Project } from '../model/index.js';
import type { LoadedProject } from './load-project.js';

/** What `berth config` was asked to print; at most one list mode is set. */
export interface ConfigRequest {
  format: 'yaml' | 'json';
  services?: boolean;
  volumes?: boolean;
  networks?: boolean;
  profiles?: boolean;
  images?: boolean;
  /** `*` or a comma-separated list of services. */
  hash?: string;
  environment?: boolean;
  /** false for `--no-normalize`: print the merged document as written. */
  normalize?: boolean;
}

const lines = (items: readonly string[]): string => (items.length > 0 ? `${items.join('\n')}\n` : '');

/** Serializes a document as compose does: JSON with 2-space indent, or block YAML with indented lists. */
export function formatDocument(document: unknown, format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  return stringify(document, { indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

/** The image a service runs: its `image`, or `<project>-<service>` for a build without one (compose's default). */
export function imageOf(project: Project, serviceName: string): string {
  return project.services.get(serviceName)?.image ?? `${project.name}-${serviceName}`;
}

function hashLines(project: Project, selection: string): string[] {
  const all = [...project.services.keys()].sort();
  const wanted = selection.trim() === '*' ? all : selection.split(',').map((name) => name.trim()).filter(Boolean);
  return wanted.map((name) => {
    const service = project.services.get(name);
    if (!service) throw new UsageError(`no such service: "${name}"`, { hint: namesHint('services', name, all) });
    return `${name} ${serviceConfigHash(service)}`;
  });
}

/** The full text for one `berth config` request. */
export function renderConfig(result: LoadedProject, request: ConfigRequest): string {
  const { project, loaded } = result;
  if (request.services) return lines([...project.services.keys()].sort());
  if (request.volumes) return lines([...project.volumes.keys()].sort());
  if (request.networks) return lines([...project.networks.keys()].sort());
  if (request.profiles) return lines(project.profiles);
  if (request.images) return lines([...project.services.keys()].sort().map((name) => imageOf(project, name)));
  if (request.hash !== undefined) return lines(hashLines(project, request.hash));
  if (request.environment) return lines(Object.keys(loaded.environment).sort().map((name) => `${name}=${loaded.environment[name]}`));
  if (request.normalize === false) {
    const { name: _name, ...rest } = loaded.document;
    const document: Record<string, unknown> = { name: project.name, ...rest };
    if (rest.services && typeof rest.services === 'object') {
      const services: Record<string, unknown> = {};
      for (const name of [...project.services.keys()].sort()) services[name] = (rest.services as Record<string, unknown>)[name];
      document.services = services;
    }
    return formatDocument(sortedDocument(document), request.format);
  }
  return formatDocument(toComposeDocument(project, { format: request.format }), request.format);
}

/** Top-level keys in compose's order, everything below with sorted keys. */
function sortedDocument(document: Record<string, unknown>): Record<string, unknown> {
  const order = ['name', 'services', 'networks', 'volumes', 'secrets', 'configs'];
  const keys = [...order.filter((key) => key in document), ...Object.keys(document).filter((key) => !order.includes(key)).sort()];
  return Object.fromEntries(keys.map((key) => [key, sortedData(document[key])]));
}
