/**
 * `berth pull [SERVICE...|IMAGE...]`: pulls a compose project's service images (honouring
 * pull_policy) or, when the arguments are image references, those images. Progress is a listr2
 * view on a terminal, plain lines otherwise, nothing with --quiet.
 */
import type { Command } from 'commander';
import { Listr } from 'listr2';
import { BerthError, ComposeFileError, UsageError } from '../../errors.js';
import { familiarReference } from '../../images/reference.js';
import { pullImage, type PullProgress } from '../../images/registry/index.js';
import { shouldPull } from '../../images/registry/pull-policy.js';
import { ImageStore } from '../../images/store/index.js';
import { loadProject, projectOptionsFromFlags } from '../../project/index.js';
import { globalOptions } from '../global-options.js';

/** One image to pull and the name shown for it (service or reference). */
export interface PullItem {
  title: string;
  ref: string;
  platform?: string;
}

/** Pulls `items` in parallel with progress; with `ignoreFailures` a failed pull is reported but not fatal. */
export async function pullWithProgress(store: ImageStore, items: PullItem[], options: { quiet?: boolean; progress?: string; ignoreFailures?: boolean }): Promise<void> {
  const terminal = process.stdout.isTTY && (process.stdout.columns ?? 0) >= 40;
  const mode = options.quiet || options.progress === 'quiet' ? 'quiet' : options.progress === 'plain' || !terminal ? 'plain' : 'tty';
  if (mode === 'tty') {
    const tasks = new Listr(items.map((item) => ({
      title: `${item.title} Pulling`,
      task: async (_ctx: unknown, task: { output: string; title: string }) => {
        const layers = new Map<string, string>();
        const image = await pullImage(store, item.ref, {
          platform: item.platform,
          onProgress: (event) => {
            if (event.kind !== 'layer') return;
            layers.set(event.digest, layerStatus(event));
            task.output = [...layers].map(([digest, status]) => `${digest.slice(7, 19)} ${status}`).join('\n');
          },
        });
        task.title = `${item.title} Pulled ${image.manifestDigest.slice(0, 19)}`;
      },
      rendererOptions: { outputBar: Infinity },
    })), { concurrent: 4, exitOnError: !options.ignoreFailures, rendererOptions: { collapseErrors: false } });
    await tasks.run();
    return;
  }
  const failures: unknown[] = [];
  await Promise.all(items.map(async (item) => {
    const say = (text: string) => { if (mode === 'plain') process.stderr.write(`${item.title} ${text}\n`); };
    say('Pulling');
    try {
      const image = await pullImage(store, item.ref, {
        platform: item.platform,
        onProgress: (event) => {
          if (event.kind === 'layer' && (event.phase === 'done' || event.phase === 'exists')) say(`${event.digest.slice(7, 19)} ${layerStatus(event)}`);
        },
      });
      say(`Pulled ${image.manifestDigest}`);
    } catch (err) {
      if (!options.ignoreFailures) throw err;
      failures.push(err);
      process.stderr.write(`${item.title} Error: ${(err as Error).message}\n`);
    }
  }));
}

function layerStatus(event: Extract<PullProgress, { kind: 'layer' }>): string {
  const mb = (n: number | undefined) => `${((n ?? 0) / 1e6).toFixed(1)}MB`;
  switch (event.phase) {
    case 'exists': return 'Already exists';
    case 'waiting': return 'Waiting';
    case 'downloading': return `Downloading ${mb(event.current)}/${mb(event.total)}`;
    case 'extracting': return 'Extracting';
    default: return 'Pull complete';
  }
}

/** Registers `berth pull`. */
export function registerPull(program: Command): void {
  program
    .command('pull [names...]')
    .description('pull service images of the project, or the given image references')
    .option('-q, --quiet', 'pull without printing progress information')
    .option('--ignore-pull-failures', 'pull what it can and ignore images with pull failures')
    .option('--include-deps', 'also pull services declared as dependencies')
    .option('--policy <policy>', 'apply pull policy ("missing"|"always")')
    .option('--platform <platform>', 'platform for image references, e.g. linux/arm64')
    .action(async (names: string[], options: { quiet?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean; policy?: string; platform?: string }, command: Command) => {
      const global = globalOptions(command);
      if (options.policy && !['missing', 'always'].includes(options.policy)) throw new UsageError(`invalid --policy "${options.policy}"`, { hint: 'use "missing" or "always"' });
      let project;
      try {
        project = await loadProject(projectOptionsFromFlags(global, { servicesNamed: names }));
      } catch (err) {
        // Without a compose file, the arguments can only be image references.
        if (!(err instanceof ComposeFileError && /no compose file/.test(err.message)) || names.length === 0) throw err;
      }
      const services = project ? names.filter((name) => project.services.has(name)) : [];
      const store = await ImageStore.open();
      if (!project || (names.length > 0 && services.length === 0)) {
        await pullWithProgress(store, names.map((ref) => ({ title: familiarReference(ref), ref, platform: options.platform })), { quiet: options.quiet, progress: global.progress, ignoreFailures: options.ignorePullFailures });
        return;
      }
      if (services.length !== names.length) {
        const unknown = names.filter((name) => !project.services.has(name));
        throw new BerthError(`no such service: ${unknown.map((name) => `"${name}"`).join(', ')}`, { hint: `services are ${[...project.services.keys()].map((name) => `"${name}"`).join(', ')}` });
      }
      const items: PullItem[] = [];
      for (const service of project.services.values()) {
        if (names.length > 0 && !names.includes(service.name)) continue;
        if (!service.image) continue;
        const policy = options.policy ?? (service.pull_policy as string | undefined) ?? 'always';
        if (!(await shouldPull(store, service.image, policy, { explicitPull: true }))) continue;
        items.push({ title: service.name, ref: service.image, platform: service.platform as string | undefined });
      }
      await pullWithProgress(store, items, { quiet: options.quiet, progress: global.progress, ignoreFailures: options.ignorePullFailures });
    });
}
