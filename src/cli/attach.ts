/**
 * Attached `up`: after the stack is started, print the attached services' logs (prefixed,
 * colored, interleaved), report `web-1 exited with code 0`, and stop the stack on Ctrl-C
 * (a second Ctrl-C kills it). Returns the exit code `up` ends with: 130 after Ctrl-C, the
 * --exit-code-from service's code, the first exited container's with --abort-on-container-exit,
 * else 0 once every attached container has exited for good.
 */
import { UsageError } from '../errors.js';
import { followLogs } from '../engine/logs.js';
import { listRecords } from '../engine/records.js';
import type { ContainerRecord, EventSink } from '../engine/types.js';
import type { RuntimeDriver } from '../runtime/driver.js';
import { colorEnabled } from './colors.js';
import { watchContainers, watchOne, type WatchedContainer } from './container-watch.js';
import { displayName, LogPrinter } from './log-printer.js';
import { createReporter } from './progress.js';

/** What attachStack needs of the Engine. */
export interface AttachEngine {
  readonly driver: RuntimeDriver;
  readonly env?: NodeJS.ProcessEnv;
  events?: EventSink;
  stopContainer(record: ContainerRecord, options?: { timeoutMs?: number; signal?: string }): Promise<void>;
  killContainer(record: ContainerRecord, signal?: string): Promise<void>;
}

/** Options of attachStack (the flags of `up`). */
export interface AttachOptions {
  /** Services of this `up` (default: every service of the project); they are stopped on Ctrl-C. */
  services?: string[];
  /**
   * Services whose logs are shown unless --attach says otherwise (default: all of `services`).
   * `up web` passes ["web"]: the dependencies it started are not shown (`--attach-dependencies` passes them all).
   */
  attachServices?: string[];
  /** Only these services' logs (--attach). */
  attach?: string[];
  /** Not these (--no-attach). */
  noAttach?: string[];
  noLogPrefix?: boolean;
  noColor?: boolean;
  ansi?: 'never' | 'always' | 'auto';
  timestamps?: boolean;
  abortOnContainerExit?: boolean;
  /** Return this service's exit code; implies abortOnContainerExit. */
  exitCodeFrom?: string;
  /** Stop timeout in seconds (default each container's stop_grace_period). */
  timeout?: number;
  /** Show log lines from this time on (ms; default: when this process started, so nothing of an earlier run). */
  since?: number;
  /** Where logs go (default process.stdout); notices about stopping go to `err` (default process.stderr). */
  out?: { write(text: string): unknown };
  err?: { write(text: string): unknown };
  /** Source of SIGINT/SIGTERM (default process). */
  signals?: NodeJS.EventEmitter;
}

/** Stops records dependents-first: a service is stopped once nothing still running depends on it. */
async function stopInOrder(records: ContainerRecord[], stopOne: (record: ContainerRecord) => Promise<void>): Promise<void> {
  const remaining = new Set(records.map((record) => record.service));
  while (remaining.size > 0) {
    let layer = [...remaining].filter((service) => !records.some((record) => remaining.has(record.service) && record.service !== service && service in record.dependsOn));
    if (layer.length === 0) layer = [...remaining];
    await Promise.all(records.filter((record) => layer.includes(record.service)).map(stopOne));
    for (const service of layer) remaining.delete(service);
  }
}

/** Follows the stack until its attached containers are done, Ctrl-C, or an abort; returns the exit code. */
export async function attachStack(engine: AttachEngine, project: { name: string; services: ReadonlyMap<string, unknown> }, options: AttachOptions = {}): Promise<number> {
  const env = engine.env ?? process.env;
  const stackServices = new Set(options.services?.length ? options.services : [...project.services.keys()]);
  for (const service of [...(options.attach ?? []), ...(options.noAttach ?? []), ...(options.exitCodeFrom ? [options.exitCodeFrom] : [])]) {
    if (!project.services.has(service)) throw new UsageError(`no such service: "${service}"`, { hint: `services are ${[...project.services.keys()].map((s) => `"${s}"`).join(', ')}` });
  }
  const defaultAttached = new Set(options.attachServices?.length ? options.attachServices : stackServices);
  const attached = (service: string) => (options.attach?.length ? options.attach.includes(service) : defaultAttached.has(service)) && !options.noAttach?.includes(service);
  const abort = Boolean(options.abortOnContainerExit || options.exitCodeFrom);
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const signals = options.signals ?? process;
  const select = (record: ContainerRecord) => !record.oneoff && stackServices.has(record.service);
  const records = listRecords(project.name, env).filter(select);
  const printer = new LogPrinter({ project: project.name, noLogPrefix: options.noLogPrefix, color: colorEnabled({ noColor: options.noColor, ansi: options.ansi, env, stream: out as { isTTY?: boolean } }), out });
  const shown = records.filter((record) => attached(record.service));
  printer.register(shown);
  if (shown.length > 0) out.write(`Attaching to ${shown.map((record) => displayName(record.name, project.name)).join(', ')}\n`);
  let phase: 'running' | 'stopping' | 'killing' = 'running';
  let firstExit: WatchedContainer | undefined;
  const current = () => listRecords(project.name, env).filter(select);
  const stopOptions = { timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000 };

  const stopStack = async (): Promise<void> => {
    const reporter = createReporter('plain', { stream: err as NodeJS.WritableStream });
    const previous = engine.events;
    engine.events = reporter.sink;
    try {
      await stopInOrder(current(), async (record) => {
        if (phase === 'killing' || !(await watchOne(engine.driver, record, env)).alive) return;
        await engine.stopContainer(record, stopOptions).catch((error: Error) => { err.write(`error stopping ${record.name}: ${error.message}\n`); });
      });
    } finally {
      engine.events = previous;
      await reporter.finish();
    }
  };
  const killStack = async (): Promise<void> => {
    await Promise.all(current().map(async (record) => {
      if (!(await watchOne(engine.driver, record, env)).alive) return;
      await engine.killContainer(record, 'SIGKILL').catch(() => undefined);
      // Wait (briefly) for the monitor to record the exit, so the exit line can be printed.
      for (let waited = 0; waited < 5000 && (await watchOne(engine.driver, record, env)).alive; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    }));
  };

  // Ctrl-C is ours from here on, even while the history is still being printed.
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => { finish = resolve; });
  const onSignal = () => {
    if (phase === 'running') {
      phase = 'stopping';
      err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      void stopStack().then(() => finish(130));
    } else if (phase === 'stopping') {
      phase = 'killing';
      err.write('Killing...\n');
      void killStack().then(() => finish(130));
    }
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  const follow = followLogs(shown, { since: options.since ?? Math.floor(performance.timeOrigin), timestamps: options.timestamps }, (line) => printer.line(line));
  await follow.ready;

  const watcher = watchContainers({ driver: engine.driver, project: project.name, select, env }, {
    onContainer: (container) => { if (attached(container.record.service)) void follow.add(container.record); },
    onExit: async (container) => {
      if (!attached(container.record.service) && !abort) return;
      await follow.flush();
      if (attached(container.record.service)) printer.notice(container.record.name, container.record.service, `exited with code ${container.exitCode}`);
      if (abort && phase === 'running' && !firstExit) {
        firstExit = container;
        phase = 'stopping';
        err.write('Aborting on container exit...\n');
        void stopStack().then(async () => {
          if (!options.exitCodeFrom) return finish(container.exitCode ?? 0);
          const from = current().filter((record) => record.service === options.exitCodeFrom);
          const codes = await Promise.all(from.map(async (record) => (await watchOne(engine.driver, record, env)).exitCode ?? 0));
          finish(codes.find((code) => code !== 0) ?? codes[0] ?? 0);
        });
      }
    },
    onPoll: (containers) => {
      if (phase !== 'running') return;
      const mine = containers.filter((container) => attached(container.record.service));
      if (mine.every((container) => !container.alive && !container.willRestart)) finish(0);
    },
  });

  try {
    const code = await finished;
    // Report the exits the stop caused before leaving.
    await watcher.poll().catch(() => undefined);
    return code;
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    watcher.stop();
    await follow.flush();
    follow.stop();
  }
}
