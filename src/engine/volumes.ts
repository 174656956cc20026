/**
 * Named and anonymous volumes: plain directories under `<stateRoot>/volumes/<name>/_data`, with
 * `volume.json` beside `_data` holding labels and the creation time. Creation is atomic (a
 * temporary directory renamed into place), so two berth commands creating the same volume at
 * once end with one volume and no error.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplyError } from '../errors.js';
import { stateRoot } from '../paths.js';
import type { Project } from '../model/types.js';
import { Labels, type EventSink } from './types.js';

const execFileAsync = promisify(execFile);

/** What `volume.json` holds, plus where the data lives. */
export interface VolumeInfo {
  name: string;
  driver: 'local';
  /** Host directory mounted into containers. */
  mountpoint: string;
  labels: Record<string, string>;
  /** ISO creation time. */
  created: string;
  /** True once the volume was filled from an image (or had content when first mounted). */
  populated?: boolean;
}

/** Selects volumes in `list`: all given labels must match (value `undefined` means "label present"). */
export interface VolumeFilter {
  project?: string;
  labels?: Record<string, string | undefined>;
}

/** Label berth puts on anonymous volumes (the same key Docker uses). */
export const anonymousVolumeLabel = 'com.docker.volume.anonymous';
/** Label naming the container path an anonymous volume was created for (to carry it over a recreate). */
export const anonymousTargetLabel = 'run.berth.anonymous.target';
/** Label naming the container an anonymous volume was created for. */
export const anonymousContainerLabel = 'run.berth.anonymous.container';

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A fresh anonymous volume name: 64 hex characters. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

/** Manages the volumes of one state root. Stateless: everything is read from disk on each call. */
export class VolumeManager {
  /** `<root>/volumes`. */
  readonly dir: string;

  constructor(readonly root: string = stateRoot()) {
    this.dir = path.join(root, 'volumes');
  }

  /**
   * Creates the project's volumes named by `keys` (top-level volume keys) that do not exist,
   * labelled with the project and key; external volumes must already exist.
   */
  async ensureProjectVolumes(project: Project, keys: readonly string[], events?: EventSink): Promise<void> {
    for (const key of keys) {
      const volume = project.volumes.get(key);
      if (!volume) {
        throw new ApplyError(`volume "${key}" is not defined in project "${project.name}"`, 'volume', undefined, {
          hint: `add it under the top-level "volumes:" key, or use a path ("./${key}") for a bind mount`,
        });
      }
      if (volume.external) {
        if (!this.exists(volume.name)) {
          throw new ApplyError(`external volume "${volume.name}" not found`, 'volume', undefined, {
            hint: `create it first (e.g. with another project), or remove "external: true" from volume "${key}" so berth creates it`,
          });
        }
        continue;
      }
      if (volume.driver && volume.driver !== 'local') {
        throw new ApplyError(`volume "${key}" uses driver "${volume.driver}", which berth does not support`, 'volume', undefined, {
          hint: 'remove "driver:" (berth volumes are local directories)',
        });
      }
      const { created } = this.ensure(volume.name, { ...(volume.labels ?? {}), [Labels.project]: project.name, [Labels.volume]: key });
      if (created) events?.({ type: 'volume', action: 'create', name: volume.name, time: Date.now() });
    }
  }

  /** Host directory of a volume's data (whether or not it exists). */
  path(name: string): string {
    return path.join(this.volumeDir(name), '_data');
  }

  /** True when the volume exists. */
  exists(name: string): boolean {
    return existsSync(path.join(this.volumeDir(name), '_data'));
  }

  /** Creates the volume unless it exists; `created` tells which. Safe against concurrent callers. */
  ensure(name: string, labels: Record<string, string> = {}): { created: boolean; path: string } {
    const target = this.volumeDir(name);
    if (existsSync(path.join(target, '_data'))) return { created: false, path: path.join(target, '_data') };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(path.join(temp, '_data'), { recursive: true, mode: 0o755 });
    const info: VolumeInfo = { name, driver: 'local', mountpoint: path.join(target, '_data'), labels, created: new Date().toISOString() };
    writeFileSync(path.join(temp, 'volume.json'), `${JSON.stringify(info, null, 2)}\n`);
    try {
      renameSync(temp, target);
      return { created: true, path: path.join(target, '_data') };
    } catch (err) {
      rmSync(temp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      // Someone else created it meanwhile (or a leftover empty dir is in the way).
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        if (!existsSync(path.join(target, '_data'))) mkdirSync(path.join(target, '_data'), { recursive: true });
        if (!existsSync(path.join(target, 'volume.json'))) writeFileSync(path.join(target, 'volume.json'), `${JSON.stringify(info, null, 2)}\n`);
        return { created: false, path: path.join(target, '_data') };
      }
      throw err;
    }
  }

  /** The volume's metadata, or undefined when it does not exist. */
  inspect(name: string): VolumeInfo | undefined {
    if (!namePattern.test(name)) return undefined;
    const dir = this.volumeDir(name);
    if (!existsSync(path.join(dir, '_data'))) return undefined;
    try {
      const info = JSON.parse(readFileSync(path.join(dir, 'volume.json'), 'utf8')) as VolumeInfo;
      return { ...info, name, driver: 'local', mountpoint: path.join(dir, '_data'), labels: info.labels ?? {} };
    } catch {
      return { name, driver: 'local', mountpoint: path.join(dir, '_data'), labels: {}, created: statSync(dir).mtime.toISOString() };
    }
  }

  /**
   * Fills an empty volume with the content of `sourceDir` (the image's files at the mount target),
   * keeping ownership, modes, symlinks and hard links. Does nothing when the volume already has
   * content or was populated before; returns true when it copied.
   */
  async populateFromImage(name: string, sourceDir: string, options: { subpath?: string } = {}): Promise<boolean> {
    const info = this.inspect(name);
    if (!info) throw new ApplyError(`volume "${name}" not found`, 'volume');
    if (info.populated) return false;
    const data = options.subpath ? path.join(info.mountpoint, options.subpath) : info.mountpoint;
    let copied = false;
    if (readdirSync(data).length === 0) {
      let isDir = false;
      try {
        isDir = statSync(sourceDir).isDirectory();
      } catch {
        isDir = false;
      }
      if (isDir && readdirSync(sourceDir).length > 0) {
        try {
          await execFileAsync('cp', ['-a', '--', `${sourceDir}/.`, `${data}/`]);
        } catch (err) {
          throw new ApplyError(`cannot copy image content into volume "${name}": ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, 'volume', undefined, {
            hint: 'mount it with "nocopy" to skip copying, or check free space under the berth state root',
          });
        }
        copied = true;
      }
      if (isDir && !options.subpath) {
        // The mount point takes the image directory's owner and mode, as a fresh volume would.
        await execFileAsync('chown', ['--reference', sourceDir, data]).catch(() => undefined);
        await execFileAsync('chmod', ['--reference', sourceDir, data]).catch(() => undefined);
      }
    }
    this.writeInfo({ ...info, populated: true });
    return copied;
  }

  /** Deletes a volume and its data; a missing volume is not an error. */
  remove(name: string, events?: EventSink): boolean {
    if (!namePattern.test(name)) return false;
    const dir = this.volumeDir(name);
    if (!existsSync(dir)) return false;
    // Rename first so a half-deleted volume is never seen as an existing one.
    const doomed = path.join(this.dir, `.rm-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      renameSync(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    rmSync(doomed, { recursive: true, force: true });
    events?.({ type: 'volume', action: 'remove', name, time: Date.now() });
    return true;
  }

  /** Volumes, sorted by name, optionally filtered by project and labels. */
  list(filter: VolumeFilter = {}): VolumeInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
    const result: VolumeInfo[] = [];
    for (const name of names.sort()) {
      const info = this.inspect(name);
      if (!info) continue;
      if (filter.project !== undefined && info.labels[Labels.project] !== filter.project) continue;
      const wanted = Object.entries(filter.labels ?? {});
      if (wanted.some(([k, v]) => !(k in info.labels) || (v !== undefined && info.labels[k] !== v))) continue;
      result.push(info);
    }
    return result;
  }

  private volumeDir(name: string): string {
    if (!namePattern.test(name)) {
      throw new ApplyError(`invalid volume name "${name}"`, 'volume', undefined, {
        hint: 'volume names are letters, digits, "_", "." and "-", starting with a letter or digit',
      });
    }
    return path.join(this.dir, name);
  }

  private writeInfo(info: VolumeInfo): void {
    const dir = this.volumeDir(info.name);
    const temp = path.join(dir, `.volume.json.${process.pid}`);
    writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`);
    renameSync(temp, path.join(dir, 'volume.json'));
  }
}
