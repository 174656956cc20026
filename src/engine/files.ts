/**
 * Service `configs` and `secrets`: each source (a file, an environment variable, or inline
 * `content` for configs) is written into the container's state directory with its mode and
 * owner, then bind-mounted read-only at its target. Secrets default to `/run/secrets/<name>`,
 * configs to `/<name>`.
 */
import { chmodSync, chownSync, copyFileSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplyError } from '../errors.js';
import type { Config, FileReference, Project, Secret, Service } from '../model/types.js';
import type { ContainerMount } from '../runtime/container-config.js';

/** Which kind of file reference. */
export type FileKind = 'secret' | 'config';

/** One file prepared for a container. */
export interface PreparedFile {
  kind: FileKind;
  name: string;
  /** Host path of the copy (or of the source directory for a directory source). */
  hostPath: string;
  target: string;
  mount: ContainerMount;
}

/** The container path a secret or config reference mounts at. */
export function fileTarget(kind: FileKind, ref: FileReference): string {
  const target = ref.target ?? ref.source;
  if (target.startsWith('/')) return target;
  return kind === 'secret' ? `/run/secrets/${target}` : `/${target}`;
}

/** Parses a `mode` (number, or an octal string like "0440"); default 0444. */
export function fileMode(mode: number | string | undefined): number {
  if (mode === undefined || mode === null) return 0o444;
  if (typeof mode === 'number') return mode;
  const text = mode.trim();
  const parsed = /^0o?[0-7]+$/.test(text) ? parseInt(text.replace(/^0o?/, ''), 8) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0o7777) throw new Error(`mode "${mode}" is not a file mode; write it like 0440`);
  return parsed;
}

function idOf(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === null || String(value).trim() === '') return undefined;
  const id = Number(String(value).trim());
  if (!Number.isInteger(id) || id < 0) throw new Error(`${what} "${value}" is not a numeric id`);
  return id;
}

/** Writes every secret and config of the service under `<stateDir>/<secrets|configs>/` and returns the mounts. */
export function prepareServiceFiles(project: Project, service: Service, stateDir: string): PreparedFile[] {
  const prepared: PreparedFile[] = [];
  const groups: Array<[FileKind, readonly FileReference[] | undefined, ReadonlyMap<string, Secret | Config>]> = [
    ['secret', service.secrets, project.secrets],
    ['config', service.configs, project.configs],
  ];
  for (const [kind, refs, defined] of groups) {
    (refs ?? []).forEach((ref, index) => {
      const key = `services.${service.name}.${kind}s[${index}]`;
      const fail = (message: string, hint: string): never => {
        throw new ApplyError(`service "${service.name}": ${kind} "${ref.source}" (${key}): ${message}`, 'container', service.name, { hint });
      };
      const definition = defined.get(ref.source);
      if (!definition) return fail(`not defined`, `add it under the top-level "${kind}s:" key`);
      const target = fileTarget(kind, ref);
      let mode: number;
      let uid: number | undefined;
      let gid: number | undefined;
      try {
        mode = fileMode(ref.mode);
        uid = idOf(ref.uid, 'uid');
        gid = idOf(ref.gid, 'gid');
      } catch (err) {
        return fail((err as Error).message, 'use numeric uid/gid and an octal mode');
      }
      const dir = path.join(stateDir, `${kind}s`);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const hostPath = path.join(dir, String(index));
      const mount = (source: string): ContainerMount => ({ type: 'bind', source, target, readOnly: true });
      if (definition.external) {
        return fail('external secrets and configs need a swarm, which berth does not have', `use "file:", "environment:"${kind === 'config' ? ' or "content:"' : ''} instead`);
      }
      let content: Buffer | undefined;
      if (definition.file !== undefined) {
        let isDir = false;
        try {
          isDir = statSync(definition.file).isDirectory();
        } catch {
          return fail(`source file "${definition.file}" does not exist`, `create the file, or fix "file:" of ${kind} "${ref.source}"`);
        }
        if (isDir) {
          prepared.push({ kind, name: ref.source, hostPath: definition.file, target, mount: mount(definition.file) });
          return;
        }
        const temp = `${hostPath}.tmp`;
        copyFileSync(definition.file, temp);
        finish(temp, hostPath, mode, uid, gid);
      } else if (definition.environment !== undefined) {
        const value = project.environment[definition.environment] ?? process.env[definition.environment];
        if (value === undefined) {
          return fail(`environment variable "${definition.environment}" is not set`, `set ${definition.environment} in the environment or in the project's .env file`);
        }
        content = Buffer.from(value);
      } else if ((definition as Config).content !== undefined) {
        content = Buffer.from(String((definition as Config).content));
      } else {
        return fail('has no source', 'give it "file:", "environment:"' + (kind === 'config' ? ' or "content:"' : ''));
      }
      if (content !== undefined) {
        const temp = `${hostPath}.tmp`;
        writeFileSync(temp, content, { mode: 0o600 });
        finish(temp, hostPath, mode, uid, gid);
      }
      prepared.push({ kind, name: ref.source, hostPath, target, mount: mount(hostPath) });
    });
  }
  return prepared;
}

function finish(temp: string, finalPath: string, mode: number, uid: number | undefined, gid: number | undefined): void {
  if (uid !== undefined || gid !== undefined) chownSync(temp, uid ?? 0, gid ?? 0);
  chmodSync(temp, mode);
  renameSync(temp, finalPath);
}
