/**
 * The Dockerfile builder. Stages form a graph (FROM <stage>, COPY --from=<stage>); only the
 * stages the target needs are built, independent ones in parallel. Each RUN runs in a berth
 * container on an overlay of the stage's layers with a fresh upper directory; COPY/ADD write into
 * such an overlay; the upper directory becomes the step's layer. Metadata instructions only
 * change the image config. A step whose key (parent, instruction, inputs) is in the build cache
 * is not run again.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, chmod, lchown, lstat, lutimes, mkdir, mkdtemp, open, readFile, readlink, rm, rmdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { createReadStream, constants as fsConstants, type Stats } from 'node:fs';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import path from 'node:path';
import { BerthError } from '../errors.js';
import { findOnPath, stateRoot } from '../paths.js';
import { unpackLayer } from '../images/layers/index.js';
import { pullImage } from '../images/registry/index.js';
import { ImageStore, type StoredImage } from '../images/store/index.js';
import { MediaTypes, type OciContainerConfig, type OciHistory, type OciImageConfig, type OciManifest } from '../images/types.js';
import { applyChanges } from '../images/archive/changes.js';
import { hostArchitecture } from '../images/archive/register.js';
import { RuntimeDriver, hostSpecOptions, resolveInRootfs, resolveUser, toOciSpec, type ContainerMount, type ContainerSpec } from '../runtime/index.js';
import { BuildCache, cacheDir, stepKey } from './cache.js';
import { cleanSource, fileChecksum, loadIgnore, noIgnore, resolveSource, sourcesChecksum, walkEntries, type ContextEntry, type IgnoreRules } from './context.js';
import { execForm, parseDockerfile, type Dockerfile, type Instruction } from './dockerfile.js';
import { BuildError } from './errors.js';
import { BuildNetwork, type BuildAttachment } from './network.js';
import { cleanStaleSnapshots, commitLayer, isEmptyDiff, mountSnapshot, type LayerRef, type Snapshot } from './layer.js';
import { expandVariablesOnly, expandWord, expandWords, keyValuePairs, type Vars } from './words.js';
import { compareStrings } from '../compare.js';

/** Another named context for `COPY --from=<name>` / `FROM <name>`: a local directory or an image. */
export type AdditionalContext = { dir: string } | { image: string };

/** Everything one build needs. */
export interface BuildOptions {
  /** Context directory (absolute). */
  context: string;
  /** Dockerfile path, relative to the context or absolute; default `Dockerfile`. */
  dockerfile?: string;
  /** Dockerfile text given inline (compose `dockerfile_inline`); wins over `dockerfile`. */
  dockerfileInline?: string;
  /** Stage to build (default: the last one). */
  target?: string;
  /** `--build-arg` values; undefined takes the value from `env` (compose `args: [NAME]`). */
  buildArgs?: Record<string, string | null | undefined>;
  /** Labels added to the image. */
  labels?: Record<string, string>;
  /** References to tag the result with. */
  tags?: string[];
  noCache?: boolean;
  /** Always pull base images, even when they are in the store. */
  pull?: boolean;
  /**
   * Network of RUN steps: `default` (or unset, or `bridge`): an own namespace on berth's build
   * bridge with outbound NAT; `host`: the host's namespace; `none`: loopback only.
   */
  network?: string;
  /**
   * Lets `RUN --network=host` in the Dockerfile use the host's network (`berth build --allow
   * network.host`); implied by `network: 'host'`. Without it such a step is refused.
   */
  allowHostNetwork?: boolean;
  /** `host:ip` entries added to /etc/hosts of RUN steps. */
  extraHosts?: string[];
  /** /dev/shm size of RUN steps, bytes. */
  shmSize?: number;
  additionalContexts?: Record<string, AdditionalContext>;
  store?: ImageStore;
  driver?: RuntimeDriver;
  /** Environment for unset build args and the state root (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (without newline). */
  log?: (line: string) => void;
}

/** One step of a build as reported. */
export interface StepReport {
  id: number;
  stage: string;
  instruction: string;
  cached: boolean;
  /** Milliseconds the step took (0 when cached). */
  durationMs: number;
}

/** What a build produced. */
export interface BuildResult {
  manifestDigest: string;
  /** Image id (config digest). */
  id: string;
  tags: string[];
  steps: StepReport[];
  /** Build args given but not used by the Dockerfile. */
  unusedArgs: string[];
}

/** Build args every Dockerfile may use without declaring them (and which stay out of the cache key). */
const predefinedArgs = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

interface Stage {
  index: number;
  name?: string;
  /** FROM argument after expansion. */
  base: string;
  from: Instruction;
  instructions: Instruction[];
}

interface StageState {
  layers: LayerRef[];
  config: OciContainerConfig;
  history: OciHistory[];
  key: string;
  created?: string;
  architecture: string;
  os: string;
  /** ARGs declared in this stage: name → value (undefined: declared without value). */
  args: Map<string, string | undefined>;
  shell: string[];
  /** WORKDIR that no file system step has created yet. */
  cmdFromBase: boolean;
}

let runCounter = 0;

function hexId(): string {
  return randomBytes(4).toString('hex');
}

function envMap(config: OciContainerConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const equals = entry.indexOf('=');
    if (equals > 0) map.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return map;
}

function setEnv(config: OciContainerConfig, key: string, value: string): void {
  const env = [...(config.Env ?? [])];
  const at = env.findIndex((item) => item.split('=')[0] === key);
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  config.Env = env;
}

/** Variables for expansion: declared ARGs, then ENV over them. */
function varsOf(state: StageState): Vars {
  const vars = new Map<string, string>();
  for (const [key, value] of state.args) if (value !== undefined) vars.set(key, value);
  for (const [key, value] of envMap(state.config)) vars.set(key, value);
  return vars;
}

function lastLines(text: string, count: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-count).join('\n');
}

/** The Dockerfile builder for one build. */
class Builder {
  private readonly store: ImageStore;
  private readonly driver: RuntimeDriver;
  private readonly cache: BuildCache;
  private readonly log: (line: string) => void;
  private readonly env: NodeJS.ProcessEnv;
  private readonly dockerfile: Dockerfile;
  private readonly stages: Stage[] = [];
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly usedArgs = new Set<string>();
  private readonly stagePromises = new Map<number, Promise<StageState>>();
  private readonly steps: StepReport[] = [];
  private stepCounter = 0;
  private readonly lease: { add(digest: string): Promise<void>; release(): Promise<void> };
  private readonly snapshots = new Set<Snapshot>();
  private ignore: IgnoreRules = noIgnore;
  /** The build network, once a RUN step needed it. */
  private network?: BuildNetwork;
  /** Set when the build failed: parallel stages stop before their next step. */
  private failed = false;

  constructor(readonly options: BuildOptions, deps: { store: ImageStore; driver: RuntimeDriver; dockerfile: Dockerfile; lease: Builder['lease'] }) {
    this.store = deps.store;
    this.driver = deps.driver;
    this.dockerfile = deps.dockerfile;
    this.lease = deps.lease;
    this.env = options.env ?? process.env;
    this.cache = new BuildCache(cacheDir(stateRoot(this.env)));
    this.log = options.log ?? (() => undefined);
  }

  private where(instruction: Instruction): string {
    return `${this.dockerfile.name}:${instruction.line}`;
  }

  private buildArg(name: string): string | undefined {
    const args = this.options.buildArgs ?? {};
    if (!(name in args)) return undefined;
    const value = args[name];
    return value === undefined || value === null ? this.env[name] : value;
  }

  private hasBuildArg(name: string): boolean {
    const args = this.options.buildArgs ?? {};
    return name in args && this.buildArg(name) !== undefined;
  }

  /** Splits the Dockerfile into stages and evaluates the ARGs before the first FROM. */
  async prepare(): Promise<void> {
    const dockerfilePath = this.options.dockerfileInline === undefined ? path.resolve(this.options.context, this.options.dockerfile ?? 'Dockerfile') : undefined;
    this.ignore = await loadIgnore(this.options.context, dockerfilePath);
    let current: Stage | undefined;
    for (const instruction of this.dockerfile.instructions) {
      if (instruction.keyword === 'FROM') {
        const vars = new Map<string, string>();
        for (const [key, value] of this.globalArgs) if (value !== undefined) vars.set(key, value);
        const words = expandWords(instruction.args, vars, this.dockerfile.escape, this.where(instruction));
        if (words.length !== 1 && !(words.length === 3 && words[1].toLowerCase() === 'as')) {
          throw new BuildError(`${this.where(instruction)}: FROM takes an image and optionally "AS name", got "${instruction.args}"`, { hint: 'write FROM image[:tag] [AS name]' });
        }
        if (!words[0]) throw new BuildError(`${this.where(instruction)}: FROM names no image (an ARG it uses is empty?)`, { hint: 'give the ARG a default or pass it with --build-arg' });
        const name = words[2]?.toLowerCase();
        if (name && this.stages.some((stage) => stage.name === name)) {
          throw new BuildError(`${this.where(instruction)}: duplicate stage name "${name}"`, { hint: 'give every stage its own name' });
        }
        current = { index: this.stages.length, name, base: words[0], from: instruction, instructions: [] };
        this.stages.push(current);
        continue;
      }
      if (!current) {
        if (instruction.keyword !== 'ARG') {
          throw new BuildError(`${this.where(instruction)}: ${instruction.keyword} before the first FROM`, { hint: 'only ARG may come before FROM' });
        }
        const vars = new Map<string, string>();
        for (const [key, value] of this.globalArgs) if (value !== undefined) vars.set(key, value);
        for (const [key, value] of keyValuePairs(instruction.args, vars, this.dockerfile.escape, this.where(instruction), { allowBare: true, instruction: 'ARG' })) {
          this.usedArgs.add(key);
          this.globalArgs.set(key, this.hasBuildArg(key) ? this.buildArg(key) : value);
        }
        continue;
      }
      current.instructions.push(instruction);
    }
    if (this.stages.length === 0) throw new BuildError(`${this.dockerfile.name}: no FROM instruction`, { hint: 'a Dockerfile starts with FROM image (or FROM scratch)' });
  }

  /** The stage `ref` names (name or index), if any. */
  private stageNamed(ref: string, before: number): Stage | undefined {
    const lower = ref.toLowerCase();
    const byName = this.stages.find((stage) => stage.name === lower && stage.index < before);
    if (byName) return byName;
    if (/^\d+$/.test(ref) && Number(ref) < before) return this.stages[Number(ref)];
    return undefined;
  }

  /** Builds the target stage and stores the image. */
  async run(): Promise<BuildResult> {
    let target = this.stages[this.stages.length - 1];
    if (this.options.target) {
      const found = this.stages.find((stage) => stage.name === this.options.target?.toLowerCase());
      if (!found) {
        const names = this.stages.map((stage) => stage.name).filter(Boolean);
        throw new BuildError(`target stage "${this.options.target}" could not be found in ${this.dockerfile.name}`, { hint: names.length ? `stages are ${names.map((n) => `"${n}"`).join(', ')}` : 'the Dockerfile names no stages (FROM image AS name)' });
      }
      target = found;
    }
    try {
      const state = await this.buildStage(target);
      return await this.writeImage(state);
    } catch (err) {
      this.failed = true;
      throw err;
    } finally {
      // Stages still running after a failure finish their current step first.
      await Promise.allSettled([...this.stagePromises.values()]);
      for (const snapshot of this.snapshots) await snapshot.release().catch(() => undefined);
      await this.network?.release();
    }
  }

  private buildStage(stage: Stage): Promise<StageState> {
    let promise = this.stagePromises.get(stage.index);
    if (!promise) {
      promise = this.runStage(stage);
      this.stagePromises.set(stage.index, promise);
      // Stages run in parallel; an unobserved failure would otherwise be reported twice.
      promise.catch(() => undefined);
    }
    return promise;
  }

  private stageLabel(stage: Stage, step: number): string {
    const total = stage.instructions.length + 1;
    return `[${stage.name ? `${stage.name} ` : ''}${step}/${total}]`;
  }

  private beginStep(stage: Stage, step: number, text: string): { id: number; done(cached: boolean): void; output(line: string): void } {
    const id = ++this.stepCounter;
    const started = Date.now();
    this.log(`#${id} ${this.stageLabel(stage, step)} ${text}`);
    return {
      id,
      output: (line) => this.log(`#${id} ${((Date.now() - started) / 1000).toFixed(3)} ${line}`),
      done: (cached) => {
        const durationMs = cached ? 0 : Date.now() - started;
        this.steps.push({ id, stage: stage.name ?? String(stage.index), instruction: text, cached, durationMs });
        this.log(cached ? `#${id} CACHED` : `#${id} DONE ${(durationMs / 1000).toFixed(1)}s`);
      },
    };
  }

  /** Starts the stages this one depends on now, so independent stages build in parallel. */
  private startDependencies(stage: Stage): void {
    const base = this.stageNamed(stage.base, stage.index);
    if (base) void this.buildStage(base);
    for (const instruction of stage.instructions) {
      const from = instruction.flags.from?.[0];
      if ((instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && from) {
        const dependency = this.stageNamed(from, stage.index);
        if (dependency) void this.buildStage(dependency);
      }
    }
  }

  private async baseState(stage: Stage): Promise<StageState> {
    const fresh = (partial: Partial<StageState> & Pick<StageState, 'key'>): StageState => ({
      layers: [], config: {}, history: [], architecture: hostArchitecture(), os: 'linux', args: new Map(), shell: ['/bin/sh', '-c'], cmdFromBase: true, ...partial,
    });
    const parentStage = this.stageNamed(stage.base, stage.index);
    if (parentStage) {
      const parent = await this.buildStage(parentStage);
      return { ...parent, layers: [...parent.layers], config: structuredClone(parent.config), history: [...parent.history], args: new Map(), cmdFromBase: true };
    }
    if (stage.base.toLowerCase() === 'scratch') return fresh({ key: stepKey('', ['scratch']) });
    const extra = this.options.additionalContexts?.[stage.base];
    if (extra && 'dir' in extra) {
      throw new BuildError(`${this.where(stage.from)}: FROM "${stage.base}" names a directory context`, { hint: 'a directory context can be used with COPY --from, not FROM' });
    }
    const image = await this.baseImage(extra && 'image' in extra ? extra.image : stage.base, stage.from);
    const config = image.config;
    return fresh({
      layers: image.layers.map((layer) => ({ digest: layer.digest, diffId: layer.diffId, mediaType: layer.mediaType, size: layer.size })),
      config: structuredClone(config.config ?? {}),
      history: [...(config.history ?? [])],
      key: stepKey('', ['image', image.manifestDigest]),
      created: config.created,
      architecture: config.architecture ?? hostArchitecture(),
      os: config.os ?? 'linux',
      shell: config.config?.Shell?.length ? [...config.config.Shell] : ['/bin/sh', '-c'],
    });
  }

  private readonly pulls = new Map<string, Promise<StoredImage>>();

  /** A base image from the store; pulled when missing or when `pull` is set (once per build). */
  private baseImage(ref: string, instruction: Instruction): Promise<StoredImage> {
    let promise = this.pulls.get(ref);
    if (!promise) {
      promise = (async () => {
        const stored = this.options.pull ? undefined : await this.store.resolve(ref);
        if (stored) return stored;
        this.log(`pulling ${ref}`);
        try {
          return await pullImage(this.store, ref, { env: this.env });
        } catch (err) {
          const local = await this.store.resolve(ref);
          if (local && this.options.pull) {
            this.log(`warning: cannot pull ${ref} (${(err as Error).message}); using the image in the store`);
            return local;
          }
          throw new BuildError(`${this.where(instruction)}: base image "${ref}" is not in the store and cannot be pulled: ${(err as Error).message}`, {
            hint: err instanceof BerthError && err.hint ? err.hint : `pull or load "${ref}" first, or check the name`,
            cause: err,
          });
        }
      })();
      this.pulls.set(ref, promise);
    }
    return promise;
  }

  private async runStage(stage: Stage): Promise<StageState> {
    this.startDependencies(stage);
    const fromStep = this.beginStep(stage, 1, `FROM ${stage.base}${stage.name ? ` AS ${stage.name}` : ''}`);
    const state = await this.baseState(stage);
    fromStep.done(false);
    const triggers = state.config.OnBuild ?? [];
    state.config.OnBuild = null;
    let instructions = stage.instructions;
    if (triggers.length > 0) {
      const parsed = parseDockerfile(triggers.join('\n'), `${stage.base} ONBUILD`);
      instructions = [...parsed.instructions.map((instruction) => ({ ...instruction, line: stage.from.line })), ...instructions];
    }
    let stepNumber = 1;
    for (const instruction of instructions) {
      // Another stage failed: the build is over, stop before the next step.
      if (this.failed) throw new BuildError('build cancelled');
      stepNumber++;
      await this.runInstruction(stage, state, instruction, stepNumber);
    }
    return state;
  }

  private metadata(state: StageState, instruction: Instruction, createdBy: string): void {
    state.key = stepKey(state.key, ['meta', createdBy]);
    state.history.push({ created: state.created, created_by: createdBy, comment: 'berth build', empty_layer: true });
  }

  private async runInstruction(stage: Stage, state: StageState, instruction: Instruction, stepNumber: number): Promise<void> {
    const where = this.where(instruction);
    const escape = this.dockerfile.escape;
    const vars = () => varsOf(state);
    const keyword = instruction.keyword;
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      const step = this.beginStep(stage, stepNumber, instruction.text.split('\n')[0]);
      if (keyword === 'RUN') await this.runStep(state, instruction, step);
      else await this.copyStep(stage, state, instruction, step);
      return;
    }
    switch (keyword) {
      case 'ARG': {
        for (const [key, value] of keyValuePairs(instruction.args, vars(), escape, where, { allowBare: true, instruction: 'ARG' })) {
          this.usedArgs.add(key);
          const resolved = this.hasBuildArg(key) ? this.buildArg(key) : value ?? this.globalArgs.get(key);
          // Not part of the key chain: a changed value misses the cache where it is used (RUN
          // sees every ARG in scope; other instructions carry expanded values in their keys).
          state.args.set(key, resolved);
        }
        return;
      }
      case 'ENV': {
        const pairs = keyValuePairs(instruction.args, vars(), escape, where, { instruction: 'ENV' });
        for (const [key, value] of pairs) setEnv(state.config, key, value ?? '');
        this.metadata(state, instruction, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        return;
      }
      case 'LABEL': {
        const pairs = keyValuePairs(instruction.args, vars(), escape, where, { instruction: 'LABEL' });
        state.config.Labels = { ...(state.config.Labels ?? {}) };
        for (const [key, value] of pairs) state.config.Labels[key] = value ?? '';
        this.metadata(state, instruction, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        return;
      }
      case 'MAINTAINER': {
        this.metadata(state, instruction, `MAINTAINER ${instruction.args}`);
        return;
      }
      case 'WORKDIR': {
        const dir = expandWord(instruction.args, vars(), escape, where);
        if (!dir) throw new BuildError(`${where}: WORKDIR needs a path`, { hint: 'write WORKDIR /path' });
        state.config.WorkingDir = path.posix.resolve(state.config.WorkingDir || '/', dir);
        this.metadata(state, instruction, `WORKDIR ${state.config.WorkingDir}`);
        return;
      }
      case 'USER': {
        state.config.User = expandWord(instruction.args, vars(), escape, where);
        this.metadata(state, instruction, `USER ${state.config.User}`);
        return;
      }
      case 'SHELL': {
        const shell = execForm(instruction.args);
        if (!shell || shell.length === 0) throw new BuildError(`${where}: SHELL must be a JSON array, e.g. SHELL ["/bin/bash", "-c"]`, { hint: 'write the shell and its flags as a JSON array' });
        state.shell = shell;
        state.config.Shell = shell;
        this.metadata(state, instruction, `SHELL ${JSON.stringify(shell)}`);
        return;
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        const exec = execForm(instruction.args);
        const command = exec ?? [...state.shell, instruction.args];
        if (keyword === 'CMD') {
          state.config.Cmd = command;
          state.cmdFromBase = false;
        } else {
          state.config.Entrypoint = command;
          // An ENTRYPOINT resets a CMD inherited from the base image.
          if (state.cmdFromBase) state.config.Cmd = null;
        }
        this.metadata(state, instruction, `${keyword} ${JSON.stringify(command)}`);
        return;
      }
      case 'EXPOSE':
      case 'VOLUME':
      case 'STOPSIGNAL': {
        const exec = keyword === 'VOLUME' ? execForm(instruction.args) : undefined;
        const words = exec ?? expandWords(instruction.args, vars(), escape, where);
        const change = keyword === 'VOLUME' ? `VOLUME ${JSON.stringify(words)}` : `${keyword} ${words.join(' ')}`;
        state.config = this.applyChange(state.config, change, where);
        this.metadata(state, instruction, change);
        return;
      }
      case 'HEALTHCHECK':
      case 'ONBUILD': {
        const change = `${keyword} ${instruction.args}`;
        if (keyword === 'ONBUILD' && /^(ONBUILD|FROM|MAINTAINER)\b/i.test(instruction.args.trim())) {
          throw new BuildError(`${where}: ONBUILD cannot trigger ${instruction.args.trim().split(/\s/)[0]}`, { hint: 'ONBUILD takes another instruction such as RUN or COPY' });
        }
        state.config = this.applyChange(state.config, change, where);
        this.metadata(state, instruction, change);
        return;
      }
      default:
        throw new BuildError(`${where}: ${keyword} is not supported here`);
    }
  }

  private applyChange(config: OciContainerConfig, change: string, where: string): OciContainerConfig {
    try {
      return applyChanges(config, [change]);
    } catch (err) {
      const message = (err as Error).message.replace(/^invalid --change "(?:[^"\\]|\\.)*": /, '');
      throw new BuildError(`${where}: ${message}`, { hint: (err as BerthError).hint, cause: err });
    }
  }

  /** Looks the step up in the cache; on a hit applies it and returns true. */
  private async fromCache(state: StageState, key: string, createdBy: string): Promise<boolean> {
    if (this.options.noCache) return false;
    const entry = await this.cache.get(key, this.store);
    if (!entry) return false;
    this.applyStep(state, key, createdBy, entry.layer, entry.created);
    return true;
  }

  private applyStep(state: StageState, key: string, createdBy: string, layer: LayerRef | undefined, created: string): void {
    state.key = key;
    if (layer) {
      state.layers.push(layer);
      state.created = created;
    }
    state.history.push({ created, created_by: createdBy, comment: 'berth build', ...(layer ? {} : { empty_layer: true }) });
    if (layer) void this.lease.add(layer.digest).catch(() => undefined);
  }

  private async commit(state: StageState, key: string, createdBy: string, snapshot: Snapshot): Promise<void> {
    const layer = (await isEmptyDiff(snapshot.upper)) ? undefined : await commitLayer(this.store, snapshot.upper);
    if (layer) await this.lease.add(layer.digest);
    const created = new Date().toISOString();
    await this.cache.put(key, { layer, created });
    this.applyStep(state, key, createdBy, layer, created);
  }

  private async mount(state: StageState): Promise<Snapshot> {
    const snapshot = await mountSnapshot(this.store, state.layers);
    this.snapshots.add(snapshot);
    const release = snapshot.release.bind(snapshot);
    snapshot.release = async () => {
      this.snapshots.delete(snapshot);
      await release();
    };
    return snapshot;
  }

  /** Creates WORKDIR inside the rootfs when it does not exist yet (it lands in the step's layer). */
  private async ensureWorkdir(rootfs: string, state: StageState): Promise<void> {
    if (state.config.WorkingDir && state.config.WorkingDir !== '/') await ensureDirIn(rootfs, state.config.WorkingDir, 0, 0);
  }

  private async runStep(state: StageState, instruction: Instruction, step: ReturnType<Builder['beginStep']>): Promise<void> {
    const where = this.where(instruction);
    const exec = instruction.heredocs.length === 0 ? execForm(instruction.args) : undefined;
    let args: string[];
    if (exec) args = exec;
    else if (instruction.heredocs.length > 0 && instruction.args.trim() === `<<${instruction.heredocs[0].stripTabs ? '-' : ''}${instruction.heredocs[0].name}` && instruction.heredocs.length === 1) {
      // `RUN <<EOF` alone: the body is the script.
      const body = instruction.heredocs[0].content;
      args = [...state.shell, instruction.heredocs[0].expand ? body : body];
    } else if (instruction.heredocs.length > 0) {
      const bodies = instruction.heredocs.map((doc) => `${doc.content}${doc.name}\n`).join('');
      args = [...state.shell, `${instruction.args}\n${bodies}`];
    } else {
      args = [...state.shell, instruction.args];
    }
    if (args.length === 0 || (args.length === state.shell.length + 1 && !args[args.length - 1].trim())) {
      throw new BuildError(`${where}: RUN needs a command`, { hint: 'write RUN command' });
    }
    const requested = instruction.flags.network?.[0];
    let network = !requested || requested === 'default' ? (this.options.network || 'default') : requested;
    if (network === 'bridge') network = 'default';
    if (network !== 'default' && network !== 'host' && network !== 'none') {
      const what = requested && requested !== 'default' ? `RUN --network=${requested}` : `build network "${network}"`;
      throw new BuildError(`${where}: ${what} is not supported`, { hint: 'leave it out (an isolated network with outbound access), or use "host" or "none"' });
    }
    if (requested === 'host' && this.options.network !== 'host' && !this.options.allowHostNetwork) {
      // The Dockerfile alone cannot take the host's network: whoever runs the build grants it.
      throw new BuildError(`${where}: RUN --network=host is not allowed: the step would share the host's network (and reach services on its 127.0.0.1)`, {
        hint: 'if you trust this Dockerfile, allow it with "berth build --allow network.host" or build.network: host in the compose file',
      });
    }
    const buildArgEnv: string[] = [];
    for (const [key, value] of [...state.args].sort((a, b) => compareStrings(a[0], b[0]))) {
      if (value !== undefined) buildArgEnv.push(`${key}=${value}`);
    }
    for (const name of predefinedArgs) {
      const value = this.buildArg(name);
      if (value !== undefined && !state.args.has(name)) {
        this.usedArgs.add(name);
        buildArgEnv.push(`${name}=${value}`);
      }
    }
    const createdBy = instruction.text;
    const keyArgs = buildArgEnv.filter((entry) => !predefinedArgs.has(entry.split('=')[0]));
    const key = stepKey(state.key, ['run', args, instruction.flags, keyArgs, state.config.Env ?? [], state.config.User ?? '', state.config.WorkingDir ?? '']);
    if (await this.fromCache(state, key, createdBy)) {
      step.done(true);
      return;
    }
    // The step's namespace on the build bridge is made while the overlay is mounted.
    if (network === 'default') this.network ??= new BuildNetwork(stateRoot(this.env), path.join(this.store.root, 'tmp'), this.options.extraHosts ?? [], this.env);
    const attaching = network === 'default' ? this.network?.acquire() : undefined;
    let attached: BuildAttachment | undefined;
    let snapshot: Snapshot;
    try {
      snapshot = await this.mount(state);
    } catch (err) {
      await attaching?.then((taken) => taken.release(), () => undefined);
      throw err;
    }
    try {
      await this.ensureWorkdir(snapshot.rootfs, state);
      const probe = ['/etc', '/etc/hosts', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/tmp'];
      const mounts: ContainerMount[] = [];
      const hostsFile = path.join(snapshot.dir, 'hosts');
      const extraHosts = (this.options.extraHosts ?? []).map((entry) => {
        const split = entry.includes('=') ? entry.indexOf('=') : entry.indexOf(':');
        // In the host's namespace (or none) the host is its own loopback.
        const address = entry.slice(split + 1).replace(/^host-gateway$/, '127.0.0.1');
        return `${address}\t${entry.slice(0, split)}`;
      });
      const id = `berth-build-${process.pid}-${++runCounter}-${hexId()}`;
      let specNetwork: ContainerSpec['network'] = network === 'default' ? undefined : network;
      if (attaching) {
        // Its own namespace on the build bridge: outbound traffic is NATed, the host's loopback is out of reach.
        attached = await attaching;
        specNetwork = { path: attached.netnsPath };
        mounts.push({ type: 'bind', source: attached.hosts, target: '/etc/hosts', readOnly: true });
        mounts.push({ type: 'bind', source: attached.resolvConf, target: '/etc/resolv.conf', readOnly: true });
      } else {
        await writeFile(hostsFile, ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...extraHosts].join('\n') + '\n');
        mounts.push({ type: 'bind', source: hostsFile, target: '/etc/hosts', readOnly: true });
      }
      if (network === 'host') {
        const resolv = path.join(snapshot.dir, 'resolv.conf');
        await writeFile(resolv, await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
        mounts.push({ type: 'bind', source: resolv, target: '/etc/resolv.conf', readOnly: true });
      }
      for (const mount of instruction.flags.mount ?? []) mounts.push(await this.runMount(mount, where));
      for (const mount of mounts) if (!probe.includes(mount.target)) probe.push(mount.target);
      const existed = new Map<string, boolean>();
      for (const target of probe) existed.set(target, await pathExistsIn(snapshot.rootfs, target));
      const env = [...(state.config.Env ?? [])];
      const envKeys = new Set(env.map((entry) => entry.split('=')[0]));
      for (const entry of buildArgEnv) if (!envKeys.has(entry.split('=')[0])) env.push(entry);
      let user;
      try {
        user = resolveUser(snapshot.rootfs, state.config.User || undefined);
      } catch (err) {
        throw new BuildError(`${where}: ${(err as Error).message}`, { hint: (err as BerthError).hint });
      }
      const spec: ContainerSpec = {
        id, rootfs: snapshot.rootfs, args, env, cwd: state.config.WorkingDir || '/', user,
        hostname: attached?.hostname ?? id.slice(-12), network: specNetwork, mounts, shmSize: this.options.shmSize,
      };
      const bundle = path.join(snapshot.dir, 'bundle');
      RuntimeDriver.writeBundle(bundle, toOciSpec(spec, hostSpecOptions({ privileged: false })));
      let output = '';
      let partial = '';
      const result = await this.driver.run(id, bundle, {
        timeoutMs: 6 * 3600_000,
        onOutput: (_stream, chunk) => {
          const text = partial + chunk.toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) step.output(line);
          output += chunk.toString('utf8');
          if (output.length > 1_000_000) output = output.slice(-200_000);
        },
      }).finally(() => this.driver.delete(id, { force: true, ignoreMissing: true }).catch(() => undefined));
      if (partial) step.output(partial);
      if (result.exitCode !== 0) {
        const tail = lastLines(output, 20);
        throw new BuildError(`${where}: ${instruction.text.split('\n')[0]} failed with exit code ${result.exitCode}${tail ? `:\n${tail.split('\n').map((line) => `  ${line}`).join('\n')}` : ''}`, {
          hint: `fix the command on line ${instruction.line} of ${this.dockerfile.name} (its output is above)`,
          output: tail,
        });
      }
      // Mount points the runtime had to create are not part of the layer.
      for (const target of [...probe].sort((a, b) => b.length - a.length)) {
        if (existed.get(target)) continue;
        await removeIfEmpty(path.join(snapshot.upper, target));
      }
      await this.commit(state, key, createdBy, snapshot);
      step.done(false);
    } finally {
      if (attached) attached.release();
      else await attaching?.then((taken) => taken.release(), () => undefined);
      await snapshot.release();
    }
  }

  /** `RUN --mount=type=cache,target=...` (a persistent directory) and `type=bind` (from the context). */
  private async runMount(text: string, where: string): Promise<ContainerMount> {
    const fields = new Map<string, string>();
    for (const part of text.split(',')) {
      const equals = part.indexOf('=');
      fields.set(equals === -1 ? part : part.slice(0, equals), equals === -1 ? 'true' : part.slice(equals + 1));
    }
    const type = fields.get('type') ?? 'bind';
    const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
    if (!target) throw new BuildError(`${where}: --mount=${text} has no target`, { hint: 'add target=/path' });
    if (type === 'cache') {
      const id = (fields.get('id') ?? target).replace(/[^A-Za-z0-9_.-]/g, '_');
      const dir = path.join(cacheDir(stateRoot(this.env)), 'mounts', id);
      await mkdir(dir, { recursive: true });
      return { type: 'bind', source: dir, target };
    }
    if (type === 'bind') {
      if (fields.get('from')) throw new BuildError(`${where}: --mount=type=bind,from=... is not supported`, { hint: 'COPY --from the files instead' });
      const source = path.join(this.options.context, cleanSource(fields.get('source') ?? fields.get('src') ?? '.', where));
      const readWrite = fields.get('rw') === 'true' || fields.get('readwrite') === 'true';
      return { type: 'bind', source, target, readOnly: !readWrite };
    }
    if (type === 'tmpfs') return { type: 'tmpfs', target };
    throw new BuildError(`${where}: --mount type "${type}" is not supported`, { hint: 'berth supports type=cache, type=bind and type=tmpfs' });
  }

  /** Where COPY/ADD sources come from: the context, another stage, a named context or an image. */
  private async sourceRoot(stage: Stage, from: string | undefined, where: string): Promise<{ root: string; rules: IgnoreRules; keyPart: string; preserveOwner: boolean; release?: () => Promise<void> }> {
    if (!from) return { root: this.options.context, rules: this.ignore, keyPart: 'context', preserveOwner: false };
    const dependency = this.stageNamed(from, stage.index);
    let layers: LayerRef[];
    let keyPart: string;
    if (dependency) {
      const state = await this.buildStage(dependency);
      layers = state.layers;
      keyPart = `stage:${state.key}`;
    } else {
      const extra = this.options.additionalContexts?.[from];
      if (extra && 'dir' in extra) {
        return { root: extra.dir, rules: await loadIgnore(extra.dir), keyPart: `dir:${extra.dir}`, preserveOwner: false };
      }
      const fromInstruction: Instruction = { keyword: 'COPY', flags: {}, args: '', heredocs: [], line: Number(where.split(':').pop()), endLine: 0, text: '' };
      const image = await this.baseImage(extra && 'image' in extra ? extra.image : from, fromInstruction);
      layers = image.layers.map((layer) => ({ digest: layer.digest, diffId: layer.diffId, mediaType: layer.mediaType, size: layer.size }));
      keyPart = `image:${image.manifestDigest}`;
    }
    const snapshot = await this.mount({ layers } as StageState);
    return { root: snapshot.rootfs, rules: noIgnore, keyPart, preserveOwner: true, release: () => snapshot.release() };
  }

  private async copyStep(stage: Stage, state: StageState, instruction: Instruction, step: ReturnType<Builder['beginStep']>): Promise<void> {
    const where = this.where(instruction);
    const keyword = instruction.keyword;
    const vars = varsOf(state);
    const exec = execForm(instruction.args);
    const words = exec ? exec.map((word) => expandWord(JSON.stringify(word).slice(1, -1).replace(/\\"/g, '"'), vars, this.dockerfile.escape, where)) : expandWords(instruction.args, vars, this.dockerfile.escape, where);
    if (words.length < 2) throw new BuildError(`${where}: ${keyword} needs a source and a destination`, { hint: `write ${keyword} <src>... <dest>` });
    const destText = words[words.length - 1];
    const sourcesText = words.slice(0, -1);
    const from = instruction.flags.from?.[0] ? expandWord(instruction.flags.from[0], vars, this.dockerfile.escape, where) : undefined;
    const chownText = instruction.flags.chown?.[0] ? expandWord(instruction.flags.chown[0], vars, this.dockerfile.escape, where) : undefined;
    const chmodText = instruction.flags.chmod?.[0];
    let chmodValue: number | undefined;
    if (chmodText !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodText)) throw new BuildError(`${where}: --chmod=${chmodText} is not an octal mode`, { hint: 'write --chmod=755 or --chmod=0644' });
      chmodValue = Number.parseInt(chmodText, 8);
    }
    for (const flag of Object.keys(instruction.flags)) {
      if (!['from', 'chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'parents', 'exclude'].includes(flag)) {
        throw new BuildError(`${where}: unknown flag --${flag} for ${keyword}`, { hint: `${keyword} takes --from, --chown, --chmod and --link` });
      }
    }
    const workdir = state.config.WorkingDir || '/';
    const dest = path.posix.resolve(workdir, destText);
    const destIsDir = destText.endsWith('/') || destText.endsWith('/.') || destText === '.' || sourcesText.length > 1;
    const source = await this.sourceRoot(stage, from, where);
    const downloads = new Map<string, { file: string; name: string; mtime?: Date }>();
    try {
      // Resolve the sources: heredocs, URLs (ADD), paths and globs.
      type Item = { kind: 'heredoc'; name: string; content: string } | { kind: 'url'; url: string } | { kind: 'entries'; text: string; entries: ContextEntry[] };
      const items: Item[] = [];
      for (const text of sourcesText) {
        const heredoc = /^<<-?["']?([A-Za-z0-9_.-]+)["']?$/.exec(text) ? instruction.heredocs.find((doc) => text.replace(/^<<-?["']?|["']?$/g, '') === doc.name) : undefined;
        if (heredoc) {
          items.push({ kind: 'heredoc', name: heredoc.name, content: heredoc.expand ? expandVariablesOnly(heredoc.content, vars, where) : heredoc.content });
        } else if (/^https?:\/\//i.test(text)) {
          if (keyword === 'COPY') throw new BuildError(`${where}: COPY cannot fetch URL "${text}"`, { hint: 'use ADD for URLs' });
          items.push({ kind: 'url', url: text });
        } else if (/^git@|\.git(#.*)?$/.test(text)) {
          throw new BuildError(`${where}: ${keyword} of a git repository ("${text}") is not supported`, { hint: 'clone the repository into the build context and COPY it' });
        } else {
          const entries = await resolveSource(source.root, text, source.rules, where);
          if (entries.length === 0) {
            const what = from ? `"${from}"` : 'the build context';
            const ignored = !from && source.rules.ignores(cleanSource(text, where));
            throw new BuildError(`${where}: ${keyword} ${text}: not found in ${what}${ignored ? ' (excluded by .dockerignore)' : ''}`, {
              hint: ignored ? 'remove the matching pattern from .dockerignore or do not copy the file' : `check the path; it is relative to ${from ? `the root of ${from}` : `the context directory ${this.options.context}`}`,
            });
          }
          if (entries.length > 1 && !destText.endsWith('/')) {
            throw new BuildError(`${where}: ${keyword} with several sources needs a destination ending in "/" (got "${destText}")`, { hint: `write ${destText}/` });
          }
          items.push({ kind: 'entries', text, entries });
        }
      }
      const parts: unknown[] = [keyword, dest, destIsDir, from ?? '', chownText ?? '', chmodText ?? '', source.keyPart];
      for (const item of items) {
        if (item.kind === 'heredoc') parts.push(['heredoc', item.name, item.content]);
        else if (item.kind === 'url') {
          const download = await this.download(item.url, where);
          downloads.set(item.url, download);
          parts.push(['url', item.url, await fileChecksum(download.file, await lstat(download.file))]);
        } else {
          parts.push(['src', item.text, await sourcesChecksum(source.root, item.entries, source.rules)]);
        }
      }
      const key = stepKey(state.key, parts);
      const createdBy = instruction.text;
      if (await this.fromCache(state, key, createdBy)) {
        step.done(true);
        return;
      }
      const snapshot = await this.mount(state);
      try {
        await this.ensureWorkdir(snapshot.rootfs, state);
        let owner: { uid: number; gid: number } | undefined;
        if (chownText) {
          try {
            const resolved = resolveUser(snapshot.rootfs, chownText);
            owner = { uid: resolved.uid, gid: resolved.gid };
          } catch (err) {
            throw new BuildError(`${where}: --chown=${chownText}: ${(err as Error).message}`, { hint: (err as BerthError).hint });
          }
        }
        const copier = new Copier(snapshot.rootfs, owner, chmodValue);
        const destExistsAsDir = await isDirIn(snapshot.rootfs, dest);
        const intoDir = destIsDir || destExistsAsDir;
        for (const item of items) {
          if (item.kind === 'heredoc') {
            await copier.writeFile(intoDir ? path.posix.join(dest, item.name) : dest, Buffer.from(item.content), 0o644);
          } else if (item.kind === 'url') {
            const download = downloads.get(item.url) as { file: string; name: string; mtime?: Date };
            const target = intoDir ? path.posix.join(dest, download.name) : dest;
            await copier.writeFile(target, await readFile(download.file), 0o600, download.mtime);
          } else {
            for (const entry of item.entries) {
              if (entry.stats.isDirectory()) {
                await copier.copyTree(source.root, entry, dest, source.rules, source.preserveOwner);
                continue;
              }
              const target = intoDir ? path.posix.join(dest, path.posix.basename(entry.rel)) : dest;
              const kind = keyword === 'ADD' && !from && entry.stats.isFile() ? await archiveKind(entry.full) : undefined;
              if (kind === 'tar' || kind === 'gzip' || kind === 'zstd') {
                await this.extractInto(copier, createReadStream(entry.full), entry.full, dest, where);
                continue;
              }
              if (kind === 'bzip2' || kind === 'xz') {
                const opened = await openDecompressed(entry.full, kind, this.env, where);
                if (opened.tar) {
                  await this.extractInto(copier, opened.tar, entry.full, dest, where);
                  continue;
                }
                if (opened.missing) this.log(`warning: ${where}: ADD copies ${entry.rel} as a file: extracting ${kind} archives needs ${opened.missing} on the PATH`);
              }
              await copier.copyEntry(entry, target, source.preserveOwner);
            }
          }
        }
        await copier.finish();
        await this.commit(state, key, createdBy, snapshot);
        step.done(false);
      } finally {
        await snapshot.release();
      }
    } finally {
      await source.release?.();
      for (const download of downloads.values()) await rm(path.dirname(download.file), { recursive: true, force: true });
    }
  }

  /**
   * ADD of a local tar archive (plain, gzip, zstd, or bzip2/xz decompressed by the system's
   * tool): its entries are unpacked by berth's hardened layer unpacker (no entry can escape the
   * directory), then copied into `dest`.
   */
  private async extractInto(copier: Copier, input: NodeJS.ReadableStream, file: string, dest: string, where: string): Promise<void> {
    const temp = await mkdtemp(path.join(this.store.root, 'tmp', `build-${process.pid}-`));
    const unpacked = path.join(temp, 'x');
    try {
      await unpackLayer(input, { dest: unpacked, mediaType: MediaTypes.ociLayer, digest: path.basename(file), warn: (message) => this.log(`warning: ${where}: ${message}`) });
      const root: ContextEntry = { rel: '', full: unpacked, stats: await lstat(unpacked) };
      await copier.copyTree(unpacked, root, dest, noIgnore, true, false);
    } catch (err) {
      if (err instanceof BuildError) throw err;
      throw new BuildError(`${where}: cannot extract "${path.basename(file)}": ${(err as Error).message}`, { hint: 'ADD extracts tar archives (plain, gzip, zstd, bzip2, xz); use COPY to copy the file as it is', cause: err });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** Downloads an ADD URL into a temporary file. */
  private async download(url: string, where: string): Promise<{ file: string; name: string; mtime?: Date }> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new BuildError(`${where}: cannot download "${url}": ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
        hint: 'check the address and the network, or put the file into the build context and COPY it',
        cause: err,
      });
    }
    if (!response.ok) {
      throw new BuildError(`${where}: cannot download "${url}": HTTP ${response.status} ${response.statusText}`, { hint: 'check the address; ADD needs the server to answer 200' });
    }
    const data = Buffer.from(await response.arrayBuffer());
    const dir = await mkdtemp(path.join(this.store.root, 'tmp', `build-${process.pid}-`));
    const file = path.join(dir, 'download');
    await writeFile(file, data);
    const name = path.posix.basename(new URL(url).pathname) || 'index.html';
    const modified = response.headers.get('last-modified');
    return { file, name, mtime: modified ? new Date(modified) : undefined };
  }

  /** Writes config and manifest, tags the image. */
  private async writeImage(state: StageState): Promise<BuildResult> {
    const config: OciContainerConfig = structuredClone(state.config);
    if (this.options.labels && Object.keys(this.options.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...this.options.labels };
    const imageConfig: OciImageConfig = {
      created: state.created ?? new Date(0).toISOString(),
      architecture: state.architecture,
      os: state.os,
      config,
      rootfs: { type: 'layers', diff_ids: state.layers.map((layer) => layer.diffId) },
      history: state.history,
    };
    const configBlob = await this.store.putBlob(Buffer.from(JSON.stringify(imageConfig)));
    await this.lease.add(configBlob.digest);
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: state.layers.map((layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size })),
    };
    const manifestBlob = await this.store.putBlob(Buffer.from(JSON.stringify(manifest)));
    await this.lease.add(manifestBlob.digest);
    const tags = this.options.tags ?? [];
    for (const tag of tags) await this.store.setRef(tag, manifestBlob.digest);
    if (tags.length === 0) await this.store.addUntagged(manifestBlob.digest);
    const given = Object.keys(this.options.buildArgs ?? {});
    const unusedArgs = given.filter((name) => !this.usedArgs.has(name) && !predefinedArgs.has(name));
    if (unusedArgs.length) this.log(`warning: build args not used by the Dockerfile: ${unusedArgs.join(', ')}`);
    return { manifestDigest: manifestBlob.digest, id: configBlob.digest, tags, steps: [...this.steps].sort((a, b) => a.id - b.id), unusedArgs };
  }
}

/** Kind of archive `file` is, by its first bytes (only kinds ADD extracts). */
async function archiveKind(file: string): Promise<'tar' | 'gzip' | 'zstd' | 'bzip2' | 'xz' | undefined> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    if (bytesRead >= 4 && head.subarray(0, 3).toString('latin1') === 'BZh' && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await handle.close();
  }
}

/** The system tools that decompress the kinds node cannot read itself. */
const decompressors: Record<'bzip2' | 'xz', string[]> = { bzip2: ['bzip2', 'bunzip2'], xz: ['xz', 'unxz'] };

/**
 * Decompresses a bzip2 or xz file with the system's tool (`-dc`, never extracting anything
 * itself) into a plain tar stream for berth's unpacker. `tar` is undefined when the tool is
 * missing (`missing` names it) or when the content is not a tar archive (then ADD copies the
 * file, as it does any other file). A tool failing midway fails the unpack.
 */
async function openDecompressed(file: string, kind: 'bzip2' | 'xz', env: NodeJS.ProcessEnv, where: string): Promise<{ tar?: NodeJS.ReadableStream; missing?: string }> {
  const tool = findOnPath(decompressors[kind], env);
  if (!tool) return { missing: decompressors[kind][0] };
  const child = spawn(tool, ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 4096) stderr += chunk.toString('utf8'); });
  const exited = new Promise<number>((resolve) => {
    child.on('error', (err) => { stderr += err.message; resolve(127); });
    child.on('close', (code) => resolve(code ?? 1));
  });
  const chunks = child.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < 512) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (!(head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar')) {
    child.stdout.destroy();
    if (child.exitCode === null) child.kill();
    await exited;
    return {};
  }
  async function* stream(): AsyncGenerator<Buffer> {
    try {
      yield head;
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        yield next.value;
      }
      const code = await exited;
      if (code !== 0) throw new BuildError(`${where}: ${path.basename(tool as string)} -dc "${path.basename(file)}" failed (exit code ${code}): ${stderr.trim()}`, { hint: 'check that the archive is complete' });
    } finally {
      // The unpacker gave up early: stop the decompressor (our own child) too.
      if (child.exitCode === null && child.signalCode === null) {
        child.stdout.destroy();
        child.kill();
        await exited;
      }
    }
  }
  return { tar: Readable.from(stream()) };
}

async function pathExistsIn(rootfs: string, containerPath: string): Promise<boolean> {
  try {
    await lstat(resolveInRootfs(rootfs, containerPath));
    return true;
  } catch {
    return false;
  }
}

async function isDirIn(rootfs: string, containerPath: string): Promise<boolean> {
  try {
    return (await lstat(resolveInRootfs(rootfs, containerPath))).isDirectory();
  } catch {
    return false;
  }
}

/** Removes an empty file or empty directory (the runtime's mount point stubs); leaves anything else. */
async function removeIfEmpty(file: string): Promise<void> {
  const stats = await lstat(file).catch(() => undefined);
  if (!stats) return;
  if (stats.isDirectory()) await rmdir(file).catch(() => undefined);
  else if (stats.isFile() && stats.size === 0) await rm(file, { force: true });
}

/** mkdir -p inside a rootfs (symlinks resolved inside it); new directories get mode 0755 and the owner. */
async function ensureDirIn(rootfs: string, containerPath: string, uid: number, gid: number): Promise<string> {
  const parts = containerPath.split('/').filter(Boolean);
  let current = '/';
  let host = rootfs;
  for (const part of parts) {
    current = path.posix.join(current, part);
    host = resolveInRootfs(rootfs, current);
    const stats = await lstat(host).catch(() => undefined);
    if (stats?.isDirectory()) continue;
    if (stats) await rm(host, { recursive: true, force: true });
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    await lchown(host, uid, gid);
  }
  return host;
}

/** Copies entries into a mounted rootfs, resolving every destination inside it. */
class Copier {
  private readonly dirTimes: Array<{ host: string; mtime: Date }> = [];

  constructor(private readonly rootfs: string, private readonly owner: { uid: number; gid: number } | undefined, private readonly mode: number | undefined) {}

  private ownerOf(stats: Stats, preserve: boolean): { uid: number; gid: number } {
    if (this.owner) return this.owner;
    return preserve ? { uid: stats.uid, gid: stats.gid } : { uid: 0, gid: 0 };
  }

  private async target(containerPath: string): Promise<string> {
    const parent = path.posix.dirname(containerPath);
    const hostParent = await ensureDirIn(this.rootfs, parent, this.owner?.uid ?? 0, this.owner?.gid ?? 0);
    return path.join(hostParent, path.posix.basename(containerPath));
  }

  /** Writes a regular file with `data` (heredocs, downloads). */
  async writeFile(containerPath: string, data: Buffer, mode: number, mtime?: Date): Promise<void> {
    const host = await this.target(containerPath);
    const existing = await lstat(host).catch(() => undefined);
    if (existing) await rm(host, { recursive: true, force: true });
    await writeFile(host, data, { mode: this.mode ?? mode });
    await chmod(host, this.mode ?? mode);
    const owner = this.owner ?? { uid: 0, gid: 0 };
    await lchown(host, owner.uid, owner.gid);
    if (mtime) await utimes(host, mtime, mtime);
  }

  /** Copies one file, symlink or (empty) directory to `containerPath`. */
  async copyEntry(entry: ContextEntry, containerPath: string, preserveOwner: boolean): Promise<void> {
    const host = await this.target(containerPath);
    const { uid, gid } = this.ownerOf(entry.stats, preserveOwner);
    const existing = await lstat(host).catch(() => undefined);
    if (entry.stats.isDirectory()) {
      if (existing && !existing.isDirectory()) await rm(host, { recursive: true, force: true });
      if (!existing?.isDirectory()) await mkdir(host);
      await chmod(host, this.mode ?? entry.stats.mode & 0o7777);
      await lchown(host, uid, gid);
      this.dirTimes.push({ host, mtime: entry.stats.mtime });
      return;
    }
    if (existing) await rm(host, { recursive: true, force: true });
    if (entry.stats.isSymbolicLink()) {
      await symlink(await readlink(entry.full), host);
      await lchown(host, uid, gid);
      await lutimes(host, entry.stats.mtime, entry.stats.mtime).catch(() => undefined);
      return;
    }
    if (!entry.stats.isFile()) return;
    await copyFile(entry.full, host, fsConstants.COPYFILE_FICLONE);
    await chmod(host, this.mode ?? entry.stats.mode & 0o7777);
    await lchown(host, uid, gid);
    await utimes(host, entry.stats.mtime, entry.stats.mtime);
  }

  /** Copies the contents of directory `entry` (under `root`) into `dest`. */
  async copyTree(root: string, entry: ContextEntry, dest: string, rules: IgnoreRules, preserveOwner: boolean, destItself = true): Promise<void> {
    if (destItself) await this.copyEntry(entry, dest, preserveOwner);
    else await ensureDirIn(this.rootfs, dest, this.owner?.uid ?? 0, this.owner?.gid ?? 0);
    for await (const child of walkEntries(root, entry.rel, rules)) {
      const rel = entry.rel ? child.rel.slice(entry.rel.length + 1) : child.rel;
      await this.copyEntry(child, path.posix.join(dest, rel), preserveOwner);
    }
  }

  /** Sets directory times last (writing children changed them). */
  async finish(): Promise<void> {
    for (const { host, mtime } of this.dirTimes.reverse()) await utimes(host, mtime, mtime).catch(() => undefined);
  }
}

/** Reads the Dockerfile of a build (inline text or the file), with a clear error when missing. */
export async function readDockerfile(options: Pick<BuildOptions, 'context' | 'dockerfile' | 'dockerfileInline'>): Promise<Dockerfile> {
  if (options.dockerfileInline !== undefined) return parseDockerfile(options.dockerfileInline, 'Dockerfile (inline)');
  const file = path.resolve(options.context, options.dockerfile ?? 'Dockerfile');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BuildError(`cannot read Dockerfile "${file}": ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      hint: 'create it, or point build.dockerfile (or -f) at the right file; the path is relative to the build context',
      cause: err,
    });
  }
  const relative = path.relative(options.context, file);
  return parseDockerfile(text, relative.startsWith('..') ? file : relative);
}

/** Builds an image from a Dockerfile and tags it. */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const contextStats = await lstat(options.context).catch(() => undefined);
  if (!contextStats?.isDirectory()) {
    throw new BuildError(`build context "${options.context}" is not a directory`, { hint: 'point build.context at a directory (remote contexts are not supported)' });
  }
  const dockerfile = await readDockerfile(options);
  const store = options.store ?? await ImageStore.open(path.join(stateRoot(options.env ?? process.env), 'images'));
  const driver = options.driver ?? new RuntimeDriver({ env: options.env });
  await cleanStaleSnapshots(store);
  const lease = await store.lease([]);
  try {
    const builder = new Builder(options, { store, driver, dockerfile, lease });
    await builder.prepare();
    return await builder.run();
  } finally {
    await lease.release();
  }
}

/** Removes every cached build step under the state root (the layers of tagged images stay). */
export async function pruneBuildCache(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await new BuildCache(cacheDir(stateRoot(env))).clear();
  await rm(path.join(cacheDir(stateRoot(env)), 'mounts'), { recursive: true, force: true });
}

