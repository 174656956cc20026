/** Helpers of the logs tests: the CLI as a background process, optionally on a pseudo-terminal. */
import { spawn, type ChildProcess } from 'node:child_process';
import { berthBin } from '../helpers/cli.js';

/** A running berth process with its output so far. */
export interface RunningBerth {
  child: ChildProcess;
  /** stdout and stderr interleaved as they came (one stream on a pty). */
  output(): string;
  /** Resolves once the output matches (rejects after timeoutMs with the output so far). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit status. */
  exited: Promise<number | null>;
  /** Writes to its stdin (on a pty: keys, e.g. "\x03" for Ctrl-C). */
  send(text: string): void;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Starts `berth ...args`; with `pty`, under util-linux `script` so stdout/stderr are a terminal. */
export function startBerth(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; pty?: boolean }): RunningBerth {
  const command = [process.execPath, berthBin, ...args];
  const child = options.pty
    // exec: the shell script(1) starts must not stay around to catch the pty's SIGINT itself.
    ? spawn('script', ['-qefc', `exec ${command.map(quote).join(' ')}`, '/dev/null'], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command[0], command.slice(1), { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const waiters: Array<() => void> = [];
  const take = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    send: (keys) => { child.stdin!.write(keys); },
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return;
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${text}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
  };
}

/** Output without ANSI escapes and carriage returns (a pty turns \n into \r\n). */
export function plainText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}
