/** `berth login [SERVER]`: check credentials against a registry and store them in the Docker config. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { loginRegistry, loginServer } from '../../images/registry/index.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads one line from the terminal; `hidden` keeps the typed text off the screen (passwords). */
async function prompt(question: string, hidden: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('cannot prompt for credentials: stdin is not a terminal', { hint: 'pass -u USER and --password-stdin' });
  process.stderr.write(question);
  process.stdin.setRawMode(hidden);
  process.stdin.resume();
  let answer = '';
  try {
    for await (const chunk of process.stdin) {
      const text = (chunk as Buffer).toString('utf8');
      if (text === '\u0003') throw new UsageError('login cancelled');
      const end = text.search(/[\r\n]/);
      answer += end >= 0 ? text.slice(0, end) : text;
      if (end >= 0) break;
    }
  } finally {
    process.stdin.setRawMode(false);
    process.stdin.pause();
    if (hidden) process.stderr.write('\n');
  }
  return answer;
}

/** Registers `berth login`. */
export function registerLogin(program: Command): void {
  program
    .command('login [server]')
    .description('log in to a registry (default: Docker Hub); credentials go to the Docker config file')
    .option('-u, --username <username>', 'user name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (server: string | undefined, options: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (options.password && options.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (options.passwordStdin && !options.username) throw new UsageError('--password-stdin needs --username');
      if (options.password) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      const username = options.username ?? (await prompt('Username: ', false));
      const password = options.passwordStdin ? await readStdin() : options.password ?? (await prompt('Password: ', true));
      if (!username || !password) throw new UsageError('user name and password must not be empty');
      const stored = await loginRegistry(loginServer(server), { username, password });
      if (!stored.helper) process.stderr.write(`WARNING! Your password will be stored unencrypted in ${stored.file}.\n`);
      process.stdout.write('Login Succeeded\n');
    });
}
