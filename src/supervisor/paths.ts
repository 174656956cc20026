/**
 * Where a project's supervisor keeps its runtime files: pid file, control socket, log and the
 * event journal, all under <runRoot>/projects/<project>/ (cleared at boot, like the containers).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { runRoot } from '../paths.js';

/** The files of one project's supervisor. */
export interface SupervisorPaths {
  dir: string;
  pidFile: string;
  socket: string;
  log: string;
  events: string;
  /** Abstract unix socket name (leading NUL) held for the supervisor's whole life: the single-instance lock. */
  lockName: string;
}

/** The supervisor files of `project` under the run root of `env`. */
export function supervisorPaths(project: string, env: NodeJS.ProcessEnv = process.env): SupervisorPaths {
  const dir = path.join(runRoot(env), 'projects', project);
  // The kernel drops an abstract socket when its owner dies (even by SIGKILL), so a stale lock never blocks.
  const digest = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 32);
  return {
    dir,
    pidFile: path.join(dir, 'supervisor.pid'),
    socket: path.join(dir, 'supervisor.sock'),
    log: path.join(dir, 'supervisor.log'),
    events: path.join(dir, 'events.jsonl'),
    lockName: `\0berth-supervisor-${digest}`,
  };
}
