/**
 * `develop.watch`: chokidar watches each rule's path; changes are batched (a short debounce) and
 * then applied per rule: `sync` copies changed files into the running containers (deletions
 * removed), `sync+restart` also restarts them, `sync+exec` runs a command in them, `rebuild`
 * rebuilds the image and recreates the service. Edits to the compose files, `.env` or an
 * `env_file` reload the project and converge only what changed.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { buildServices, type BuildServicesOptions } from '../build/index.js';
import { ignoreRules, loadIgnore, type IgnoreRules } from '../build/context.js';
import type { Engine } from '../engine/engine.js';
import type { ObservedContainer } from '../engine/types.js';
import type { Project, Service } from '../model/types.js';
import { resolveUser } from '../runtime/index.js';
import { BerthError } from '../errors.js';
import { removeFrom, rootUsable, syncInto, type SyncOwner } from './sync.js';

/** One `develop.watch` rule, normalized. */
export interface WatchRule {
  service: string;
  /** Absolute host path (file or directory). */
  path: string;
  action: 'sync' | 'rebuild' | 'sync+restart' | 'sync+exec' | 'restart';
  target?: string;
  ignore: IgnoreRules;
  /** Only paths matching these (dockerignore syntax) trigger; none: everything. */
  include?: IgnoreRules;
  initialSync: boolean;
  exec?: { command: string[]; user?: string; workingDir?: string; environment: string[]; privileged: boolean };
}

/** Options of startWatch. */
export interface WatchOptions {
  /** Services to watch (default: all with develop.watch). */
  services?: string[];
  /** Reloads the project from its files (for compose file / .env edits); without it those edits are ignored. */
  reload?: () => Promise<Project>;
  /** One line per action; default stderr. */
  log?: (line: string) => void;
  /** Options for rebuilds (quiet build output, build args...). */
  build?: BuildServicesOptions;
  /** Batch window in milliseconds (default 20). */
  debounceMs?: number;
  /** Remove dangling images after a rebuild. */
  prune?: boolean;
}

/** A running watch. */
export interface WatchHandle {
  /** Resolves once every path is being watched and initial syncs are done. */
  ready: Promise<void>;
  /** The rules in force. */
  rules(): readonly WatchRule[];
  /** Stops watching. */
  close(): Promise<void>;
}

const defaultIgnores = ['.git', '**/.git', '**/*~', '**/.*.swp', '**/.*.swx', '**/.#*', '**/4913', '**/.DS_Store'];

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** The rules of `service` from `develop.watch`, with the build context's .dockerignore. */
export async function watchRules(project: Project, service: Service): Promise<WatchRule[]> {
  const develop = service.develop as { watch?: Array<Record<string, unknown>> } | undefined;
  const rules: WatchRule[] = [];
  const contextDir = service.build?.context;
  const contextIgnore = contextDir ? await loadIgnore(contextDir, service.build?.dockerfile ? path.resolve(contextDir, service.build.dockerfile) : undefined) : undefined;
  for (const [index, raw] of (develop?.watch ?? []).entries()) {
    const action = String(raw.action ?? '') as WatchRule['action'];
    if (!['sync', 'rebuild', 'sync+restart', 'sync+exec', 'restart'].includes(action)) {
      throw new BerthError(`service "${service.name}" develop.watch[${index}]: unknown action "${action}"`, { hint: 'use sync, rebuild, sync+restart, sync+exec or restart' });
    }
    const rulePath = path.resolve(project.workingDir, String(raw.path ?? ''));
    if (action.startsWith('sync') && typeof raw.target !== 'string') {
      throw new BerthError(`service "${service.name}" develop.watch[${index}]: action ${action} needs a target`, { hint: 'add target: /path/in/container' });
    }
    if (action === 'rebuild' && !service.build) {
      throw new BerthError(`service "${service.name}" develop.watch[${index}]: action rebuild needs a build section`, { hint: 'add build: to the service or use sync' });
    }
    // Patterns of the .dockerignore are relative to the context; ignore patterns to the rule path.
    const own = ignoreRules([...defaultIgnores, ...toList(raw.ignore)].join('\n'));
    const ignores = (rel: string, abs: string): boolean => {
      if (own.ignores(rel)) return true;
      if (contextIgnore && contextDir) {
        const fromContext = path.relative(contextDir, abs);
        if (!fromContext.startsWith('..') && fromContext !== '' && contextIgnore.ignores(fromContext.split(path.sep).join('/'))) return true;
      }
      return false;
    };
    const include = toList(raw.include);
    let exec: WatchRule['exec'];
    if (action === 'sync+exec') {
      const spec = (raw.exec ?? {}) as Record<string, unknown>;
      const command = spec.command;
      if (command === undefined) throw new BerthError(`service "${service.name}" develop.watch[${index}]: sync+exec needs exec.command`, { hint: 'add exec: { command: ... }' });
      const environment = spec.environment && typeof spec.environment === 'object' && !Array.isArray(spec.environment)
        ? Object.entries(spec.environment as Record<string, unknown>).map(([key, value]) => `${key}=${value ?? ''}`)
        : toList(spec.environment);
      exec = {
        command: Array.isArray(command) ? command.map(String) : ['/bin/sh', '-c', String(command)],
        user: spec.user === undefined ? undefined : String(spec.user),
        workingDir: spec.working_dir === undefined ? undefined : String(spec.working_dir),
        environment,
        privileged: spec.privileged === true,
      };
    }
    rules.push({
      service: service.name,
      path: rulePath,
      action,
      target: typeof raw.target === 'string' ? raw.target : undefined,
      ignore: { ignores: (rel) => ignores(rel, path.join(rulePath, rel)), hasExceptions: own.hasExceptions, patterns: own.patterns },
      include: include.length ? ignoreRules(include.join('\n')) : undefined,
      initialSync: raw.initial_sync === true,
      exec,
    });
  }
  return rules;
}

/**
 * The `env_file` paths of the project's services. The normalized project has already merged them
 * into `environment`, so they are read from the compose files themselves.
 */
export async function envFilesOf(project: Project): Promise<string[]> {
  const files = new Set<string>();
  for (const configFile of project.configFiles) {
    let document: unknown;
    try {
      document = parseYaml(await readFile(configFile, 'utf8'));
    } catch {
      continue;
    }
    const services = (document as { services?: Record<string, { env_file?: unknown }> } | null)?.services;
    if (!services || typeof services !== 'object') continue;
    for (const service of Object.values(services)) {
      const value = service?.env_file;
      const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
      for (const entry of list) {
        const file = typeof entry === 'string' ? entry : entry && typeof entry === 'object' && 'path' in entry ? String((entry as { path: unknown }).path) : undefined;
        if (file && !file.includes('$')) files.add(path.resolve(path.dirname(configFile), file));
      }
    }
  }
  return [...files];
}

/** Path of `file` relative to the rule path ('' for the path itself), or undefined when outside it. */
function relativeTo(rule: WatchRule, file: string): string | undefined {
  const rel = path.relative(rule.path, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

function matches(rule: WatchRule, file: string): boolean {
  const rel = relativeTo(rule, file);
  if (rel === undefined) return false;
  if (rel !== '' && rule.ignore.ignores(rel)) return false;
  if (rule.include && rel !== '' && !rule.include.ignores(rel)) return false;
  return true;
}

function containerPathOf(rule: WatchRule, file: string): string {
  const rel = relativeTo(rule, file) ?? '';
  return rel === '' ? (rule.target as string) : path.posix.join(rule.target as string, rel);
}

function duration(started: number): string {
  const ms = Date.now() - started;
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Starts watching `project` and applying changes through `engine`. */
export function startWatch(engine: Engine, initial: Project, options: WatchOptions = {}): WatchHandle {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const debounceMs = options.debounceMs ?? 20;
  let project = initial;
  let rules: WatchRule[] = [];
  let watcher: FSWatcher | undefined;
  let watchedPaths: string[] = [];
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Map<string, 'change' | 'unlink'>();
  let configChanged = false;
  let configFiles = new Set<string>();
  let queue: Promise<void> = Promise.resolve();

  const selected = () => [...project.services.values()].filter((service) => (options.services?.length ? options.services.includes(service.name) : true));

  // Observing runs the runtime once per container; syncs in a burst reuse one look for a second.
  let observed: { at: number; containers: Promise<ObservedContainer[]> } | undefined;
  const invalidate = () => { observed = undefined; };
  const containersOf = async (service: string): Promise<ObservedContainer[]> => {
    if (!observed || Date.now() - observed.at > 1000) observed = { at: Date.now(), containers: engine.observe(project.name) };
    const all = await observed.containers.catch((err: unknown) => { invalidate(); throw err; });
    return all.filter((container) => container.record.service === service && !container.record.oneoff && container.status === 'running');
  };

  const rootOf = async (container: ObservedContainer): Promise<string> => {
    if (container.pid) {
      const proc = `/proc/${container.pid}/root`;
      if (await rootUsable(proc)) return proc;
    }
    return container.record.rootfs;
  };

  const ownerOf = (container: ObservedContainer): SyncOwner => {
    try {
      const user = resolveUser(container.record.rootfs, container.record.user || undefined);
      return { uid: user.uid, gid: user.gid };
    } catch {
      return { uid: 0, gid: 0 };
    }
  };

  const syncFiles = async (rule: WatchRule, changes: ReadonlyArray<[string, 'change' | 'unlink']>): Promise<number> => {
    const containers = await containersOf(rule.service);
    for (const container of containers) {
      const root = await rootOf(container);
      const owner = ownerOf(container);
      for (const [file, kind] of changes) {
        const target = containerPathOf(rule, file);
        try {
          if (kind === 'unlink' || !(await syncInto(root, file, target, owner))) await removeFrom(root, target);
        } catch (err) {
          // The container may have stopped or been replaced since it was observed: look again next time.
          invalidate();
          throw err;
        }
      }
    }
    return containers.length;
  };

  const runRule = async (rule: WatchRule, changes: ReadonlyArray<[string, 'change' | 'unlink']>): Promise<void> => {
    const started = Date.now();
    if (rule.action !== 'sync') invalidate();
    const what = changes.length === 1 ? path.relative(project.workingDir, changes[0][0]) || changes[0][0] : `${changes.length} files`;
    try {
      if (rule.action === 'rebuild') {
        log(`${rule.service} rebuild: ${what} changed, rebuilding`);
        await buildServices(project, [rule.service], { ...options.build, env: engine.env, store: engine.store, driver: engine.driver });
        await engine.up(project, { services: [rule.service], noDeps: true, detach: true });
        invalidate();
        if (options.prune) await engine.store.gc().catch(() => undefined);
        log(`${rule.service} rebuild: ${what} -> image rebuilt, service recreated (${duration(started)})`);
        return;
      }
      if (rule.action === 'restart') {
        for (const container of await containersOf(rule.service)) await restart(container);
        log(`${rule.service} restart: ${what} changed -> restarted (${duration(started)})`);
        return;
      }
      const count = await syncFiles(rule, changes);
      if (rule.action === 'sync') {
        log(`${rule.service} sync: ${what} -> ${rule.target} in ${count} container${count === 1 ? '' : 's'} (${duration(started)})`);
        return;
      }
      if (rule.action === 'sync+restart') {
        for (const container of await containersOf(rule.service)) await restart(container);
        log(`${rule.service} sync+restart: ${what} -> ${rule.target}, restarted (${duration(started)})`);
        return;
      }
      const exec = rule.exec as NonNullable<WatchRule['exec']>;
      for (const container of await containersOf(rule.service)) {
        let user: { uid: number; gid: number } | undefined;
        if (exec.user) {
          const resolved = resolveUser(container.record.rootfs, exec.user);
          user = { uid: resolved.uid, gid: resolved.gid };
        }
        const result = await engine.driver.exec(container.record.id, exec.command, {
          env: [...container.record.env, ...exec.environment], cwd: exec.workingDir ?? container.record.workingDir, user, timeoutMs: 10 * 60_000,
        });
        const output = `${result.stdout}${result.stderr}`.trim();
        if (output) for (const line of output.split('\n')) log(`${rule.service} exec: ${line}`);
        if (result.exitCode !== 0) log(`${rule.service} exec: command exited with code ${result.exitCode}`);
      }
      log(`${rule.service} sync+exec: ${what} -> ${rule.target}, ran ${exec.command.join(' ')} (${duration(started)})`);
    } catch (err) {
      const hint = err instanceof BerthError && err.hint ? `\n  hint: ${err.hint}` : '';
      log(`${rule.service} ${rule.action}: failed after ${duration(started)}: ${(err as Error).message}${hint}`);
    }
  };

  const restart = async (container: ObservedContainer): Promise<void> => {
    invalidate();
    await engine.stopContainer(container.record);
    await engine.startContainer(container.record);
    invalidate();
  };

  const reloadProject = async (): Promise<void> => {
    if (!options.reload) return;
    const started = Date.now();
    try {
      const next = await options.reload();
      const result = await engine.up(next, { detach: true, services: options.services?.length ? options.services : undefined });
      project = next;
      invalidate();
      const changed = result.plan.actions.filter((action) => action.kind !== 'noop' && action.kind !== 'start');
      const summary = changed.length ? changed.map((action) => `${action.kind} ${action.name}${action.reasons.length ? ` (${action.reasons.join('; ')})` : ''}`).join(', ') : 'nothing to change';
      await setup(false);
      log(`project: configuration changed -> ${summary} (${duration(started)})`);
    } catch (err) {
      const hint = err instanceof BerthError && err.hint ? `\n  hint: ${err.hint}` : '';
      log(`project: configuration changed but cannot be applied: ${(err as Error).message}${hint}`);
    }
  };

  const flush = () => {
    timer = undefined;
    const batch = [...pending];
    pending.clear();
    const reload = configChanged;
    configChanged = false;
    queue = queue.then(async () => {
      if (closed) return;
      if (reload) await reloadProject();
      // Per rule, in rule order; a rebuild of a service makes its syncs moot.
      const byRule = new Map<WatchRule, Array<[string, 'change' | 'unlink']>>();
      for (const [file, kind] of batch) {
        for (const rule of rules) {
          if (!matches(rule, file)) continue;
          const list = byRule.get(rule) ?? [];
          list.push([file, kind]);
          byRule.set(rule, list);
          // The first matching rule of a service takes the change (as Docker Compose does).
          break;
        }
      }
      const rebuilding = new Set([...byRule.keys()].filter((rule) => rule.action === 'rebuild').map((rule) => rule.service));
      const work: Promise<void>[] = [];
      for (const [rule, changes] of byRule) {
        if (rule.action !== 'rebuild' && rebuilding.has(rule.service)) continue;
        work.push(runRule(rule, changes));
      }
      await Promise.all(work);
    });
  };

  const onEvent = (event: string, file: string) => {
    if (closed) return;
    const absolute = path.resolve(file);
    if (configFiles.has(absolute)) configChanged = true;
    else pending.set(absolute, event === 'unlink' || event === 'unlinkDir' ? 'unlink' : 'change');
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };

  const setup = async (first: boolean): Promise<void> => {
    const nextRules: WatchRule[] = [];
    for (const service of selected()) nextRules.push(...(await watchRules(project, service)));
    rules = nextRules;
    const envFiles = await envFilesOf(project);
    configFiles = new Set([...project.configFiles, ...project.envFiles, ...envFiles, path.join(project.workingDir, '.env')].map((file) => path.resolve(file)));
    const paths = [...new Set([...rules.map((rule) => rule.path), ...(options.reload ? configFiles : [])])];
    if (closed) return;
    if (watcher) {
      // Keep the running watcher (events keep flowing): only add and drop paths.
      const wanted = new Set(paths);
      const removed = watchedPaths.filter((file) => !wanted.has(file));
      const added = paths.filter((file) => !watchedPaths.includes(file));
      if (removed.length) watcher.unwatch(removed);
      if (added.length) watcher.add(added);
      watchedPaths = paths;
      return;
    }
    const next = watch(paths, { ignoreInitial: true, persistent: true });
    watcher = next;
    watchedPaths = paths;
    next.on('all', (event, file) => onEvent(event, file));
    next.on('error', (err) => log(`watch: ${(err as Error).message}`));
    await new Promise<void>((resolve) => next.once('ready', () => resolve()));
    if (first) {
      for (const rule of rules) {
        if (!rule.initialSync || !rule.action.startsWith('sync')) continue;
        const files: Array<[string, 'change']> = [];
        const walk = async (dir: string) => {
          const stats = await stat(dir).catch(() => undefined);
          if (!stats) return;
          if (!stats.isDirectory()) {
            if (matches(rule, dir)) files.push([dir, 'change']);
            return;
          }
          // Directories: ignore rules prune them; include rules pick files (a directory that
          // does not match an include may still hold files that do).
          const rel = relativeTo(rule, dir);
          if (rel && rule.ignore.ignores(rel)) return;
          if (rel && matches(rule, dir)) files.push([dir, 'change']);
          for (const name of (await readdir(dir)).sort()) await walk(path.join(dir, name));
        };
        await walk(rule.path);
        if (files.length) await runRule({ ...rule, action: 'sync' }, files);
      }
      const services = [...new Set(rules.map((rule) => rule.service))];
      log(`watch: watching ${rules.length} rule${rules.length === 1 ? '' : 's'} of ${services.join(', ') || 'no service'}${options.reload ? ' and the project configuration' : ''}`);
    }
  };

  const ready = setup(true);
  return {
    ready,
    rules: () => rules,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await ready.catch(() => undefined);
      await watcher?.close();
      await queue.catch(() => undefined);
    },
  };
}
