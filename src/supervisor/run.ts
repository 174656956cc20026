/**
 * The per-project supervisor process, `node main.js <project>` (src/supervisor/main.js, or
 * dist/bundle/main.js in the bundle), started detached by ensureSupervisor(). One per project:
 * it holds an abstract unix socket named after its run directory as its lock (the kernel frees
 * it even on SIGKILL), then serves the control socket, writes its pid file and supervises until
 * the project is idle.
 *
 * Imports stay lean (no compose loader, no listr2): the process lives as long as the stack.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { controlRequest, serveControl, type ControlRequest } from './control.js';
import { supervisorPaths } from './paths.js';
import { Supervisor } from './supervisor.js';

/** Runs the supervisor of `project` until the project is idle (then the process exits). */
export async function runSupervisor(project: string | undefined): Promise<void> {
  if (!project) {
    process.stderr.write('usage: supervisor/main.js PROJECT\n');
    process.exit(2);
  }
  const paths = supervisorPaths(project);
  mkdirSync(paths.dir, { recursive: true });
  try {
    if (statSync(paths.log).size > 1024 * 1024) truncateSync(paths.log, 0);
  } catch {
    // no log yet
  }
  process.title = `berth-supervisor ${project}`;

  function log(line: string): void {
    process.stderr.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`);
  }

  /** Takes the single-instance lock, waiting a little for a predecessor that is shutting down. */
  async function takeLock(): Promise<net.Server | undefined> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const server = net.createServer((socket) => socket.destroy());
      const taken = await new Promise<boolean>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
        server.listen(paths.lockName, () => resolve(true));
      });
      if (taken) return server;
      // The holder answers: it serves the project, nothing to wait for. It does not: it is exiting.
      if (Date.now() > deadline || (await controlRequest(paths.socket, { cmd: 'ping' }, 500))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function writePidFile(): void {
    const temp = `${paths.pidFile}.${process.pid}.tmp`;
    writeFileSync(temp, `${process.pid}\n`);
    renameSync(temp, paths.pidFile);
  }

  function removePidFile(): void {
    try {
      if (readFileSync(paths.pidFile, 'utf8').trim() === String(process.pid)) rmSync(paths.pidFile, { force: true });
    } catch {
      // already gone
    }
  }

  const lock = await takeLock();
  if (!lock) {
    log('another supervisor runs for this project; exiting');
    process.exit(0);
  }
  const idleMs = Number(process.env.BERTH_SUPERVISOR_IDLE_MS ?? 5000);
  const pollMs = Number(process.env.BERTH_SUPERVISOR_POLL_MS ?? 250);
  const supervisor = new Supervisor({ project, idleMs, pollMs, log });
  let control: net.Server | undefined;
  let exiting = false;

  const handle = async (request: ControlRequest): Promise<unknown> => {
    switch (request.cmd) {
      case 'ping':
        supervisor.touch();
        return { ok: true, pid: process.pid };
      case 'status':
        return { ok: true, ...supervisor.snapshot() };
      case 'dns':
        return { ok: true, addresses: await supervisor.dnsReady() };
      case 'stop':
        setImmediate(() => void shutdown('stop requested'));
        return { ok: true, pid: process.pid };
      default:
        return { ok: false, error: 'unknown command' };
    }
  };

  async function openControl(): Promise<void> {
    rmSync(paths.socket, { force: true });
    control = await serveControl(paths.socket, handle);
    writePidFile();
  }

  async function closeControl(): Promise<void> {
    removePidFile();
    const server = control;
    control = undefined;
    if (server) await new Promise((resolve) => server.close(() => resolve(undefined)));
    rmSync(paths.socket, { force: true });
  }

  async function shutdown(reason: string): Promise<void> {
    if (exiting) return;
    exiting = true;
    log(`exiting: ${reason}`);
    await closeControl().catch(() => undefined);
    await supervisor.stop();
    lock!.close();
    process.exit(0);
  }

  /** Idle: stop answering first (new commands start a successor, which waits for our lock), then look once more. */
  async function onIdle(): Promise<void> {
    await closeControl();
    await supervisor.tick();
    if (supervisor.busy()) {
      log('work appeared while exiting; staying');
      await openControl();
      supervisor.rearm(() => void onIdle());
      return;
    }
    await shutdown('nothing runs and nothing is pending');
  }

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? err}`));

  await openControl();
  log(`supervising project "${project}" (runtime state polled every ${pollMs} ms)`);
  supervisor.start(() => void onIdle());
}
