/** Where berth keeps its state. Everything berth knows lives under one root so `down` and tests can find it. */
import { accessSync, constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Persistent state: images, volumes, container records. `BERTH_ROOT` overrides `/var/lib/berth`. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_ROOT ?? '/var/lib/berth';
}

/** Runtime state (cleared at boot): container state dirs, sockets, locks. `BERTH_RUN_ROOT` overrides `/run/berth`. */
export function runRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_RUN_ROOT ?? (env.BERTH_ROOT ? path.join(env.BERTH_ROOT, 'run') : '/run/berth');
}

/** The package's own directory (holds schema/ and runtime/build/). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The berth runtime binary built by `npm install`; `BERTH_RUNTIME` may name another (runc, crun). */
export function runtimeBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_RUNTIME ?? path.join(packageRoot, 'runtime', 'build', 'berth-runtime');
}

/** The first of `names` that is an executable file in a directory of `PATH` (env's, else this process's), or undefined. */
export function findOnPath(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}
