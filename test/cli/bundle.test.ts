/**
 * The installed entry point, bin/berth.js, runs the esbuild bundle of the build output this test
 * belongs to (dist/bundle): a stack goes up and down through it, and the supervisor it starts
 * is the bundled one, so paths computed from the bundle's location (package root, runtime
 * binary, supervisor entry) are right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = path.join(distRoot, 'bundle', 'cli.cjs');
const usesThisBuild = path.join(packageRoot, 'dist') === distRoot;

function berth(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, [path.join(packageRoot, 'bin', 'berth.js'), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('bin/berth.js runs the bundle: up, ps and down of a stack, with the bundled supervisor', { skip: usesThisBuild ? undefined : 'this build output is not the one bin/berth.js runs (BERTH_DIST)' }, async (t) => {
  assert.ok(existsSync(bundle), 'npm run build made dist/bundle/cli.cjs');
  const root = await makeStackRoot({ prefix: 'berth-bundle-' });
  const project = `bundle${process.pid}`;
  const dir = root.project(project, [
    'services:',
    '  app:',
    `    image: ${testImage}`,
    `    command: ["sh", "-c", "trap 'exit 0' TERM; echo started; sleep 3600 & wait"]`,
    '    restart: always',
    '  peer:',
    `    image: ${testImage}`,
    `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`,
    '',
  ].join('\n'));
  t.after(() => {
    berth(['-p', project, 'down', '-t', '1'], dir, root.env);
    root.remove();
  });

  const version = berth(['version', '--short'], dir, root.env);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);

  const up = berth(['-p', project, 'up', '-d', '--wait'], dir, root.env);
  assert.equal(up.status, 0, up.stderr);
  const ps = berth(['-p', project, 'ps', '--format', 'json'], dir, root.env);
  assert.equal(ps.status, 0, ps.stderr);
  const rows = ps.stdout.trim().split('\n').map((line) => JSON.parse(line) as { Service: string; State: string });
  assert.deepEqual(rows.map((row) => [row.Service, row.State]).sort(), [['app', 'running'], ['peer', 'running']]);

  // Service names resolve through the DNS server the bundled supervisor runs.
  let resolved = '';
  for (let i = 0; i < 25 && !resolved.includes('Address'); i++) {
    const lookup = berth(['-p', project, 'exec', '-T', 'peer', 'nslookup', 'app'], dir, root.env);
    resolved = lookup.stdout.split('Name:')[1] ?? '';
    if (!resolved.includes('Address')) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.match(resolved, /Address:? \d+\.\d+\.\d+\.\d+/, 'peer resolves app by its service name');

  const runDir = path.join(root.root, 'run', 'projects', project);
  const pidFile = readdirSync(runDir).find((name) => name === 'supervisor.pid');
  assert.ok(pidFile, 'a supervisor runs for the project');
  // The supervisor renames itself; that it runs at all shows its entry was found next to the
  // bundle (dist/bundle/main.js). It restarts a killed container.
  const pid = readFileSync(path.join(runDir, pidFile), 'utf8').trim();
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^berth-supervisor/);
  // Killed from outside (not by a berth command, which counts as a user stop): the policy applies.
  const before = JSON.parse(berth(['-p', project, 'ps', '--format', 'json', 'app'], dir, root.env).stdout.trim()) as { Pid: number };
  assert.ok(before.Pid > 0);
  process.kill(before.Pid, 'SIGKILL');
  let restarted = false;
  for (let i = 0; i < 50 && !restarted; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = JSON.parse(berth(['-p', project, 'ps', '-a', '--format', 'json', 'app'], dir, root.env).stdout.trim()) as { State: string; RestartCount: number };
    restarted = now.State === 'running' && now.RestartCount >= 1;
  }
  assert.ok(restarted, 'the bundled supervisor restarted the killed container (restart: always)');

  const down = berth(['-p', project, 'down', '-t', '1'], dir, root.env);
  assert.equal(down.status, 0, down.stderr);
  assert.equal(existsSync(path.join(root.root, 'projects', project)), false, 'down removed the project state');
});
