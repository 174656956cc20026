/**
 * `berth-runtime host-batch` through runHostStep(): overlay mounts, unmounts and ip batches in a
 * network namespace, asked for together, each answered on its own (one failing step does not
 * fail the others), with the failure's own message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostStepsAvailable, runHostStep } from '../../src/host-batch.js';
import { listMountPoints } from '../../src/images/rootfs/overlay.js';

const skip = !hostStepsAvailable() ? 'needs root and runtime/build/berth-runtime' : spawnSync('ip', ['-V']).status !== 0 ? 'needs iproute2' : undefined;

test('mount, ip in a namespace and unmount, several at once, each answered', { skip }, async (t) => {
  const dir = mkdtempSync('/tmp/berth-hostbatch-');
  const ns = `berth-hb-${process.pid}`;
  t.after(() => {
    spawnSync('umount', ['-l', path.join(dir, 'a', 'merged')]);
    spawnSync('umount', ['-l', path.join(dir, 'b', 'merged')]);
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const name of ['a', 'b']) {
    for (const sub of ['lower', 'upper', 'work', 'merged']) mkdirSync(path.join(dir, name, sub), { recursive: true });
    writeFileSync(path.join(dir, name, 'lower', 'from-layer'), `${name}\n`);
  }
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  const good = path.join(dir, 'good.batch');
  writeFileSync(good, 'link set dev lo up\naddr add 10.254.254.1/32 dev lo\n');
  const bad = path.join(dir, 'bad.batch');
  writeFileSync(bad, 'link set dev nosuchdevice up\n');

  const options = 'lowerdir=lower,upperdir=upper,workdir=work';
  const results = await Promise.allSettled([
    runHostStep({ kind: 'mount-overlay', dir: path.join(dir, 'a'), options, target: path.join(dir, 'a', 'merged') }),
    runHostStep({ kind: 'mount-overlay', dir: path.join(dir, 'b'), options, target: path.join(dir, 'b', 'merged') }),
    runHostStep({ kind: 'netns', netns: `/run/netns/${ns}`, batchFile: good }),
    runHostStep({ kind: 'netns', netns: `/run/netns/${ns}`, batchFile: bad }),
    runHostStep({ kind: 'netns', netns: '/run/netns/berth-no-such-namespace', batchFile: good }),
    runHostStep({ kind: 'mount-overlay', dir: path.join(dir, 'missing'), options, target: path.join(dir, 'a', 'merged') }),
  ]);
  assert.deepEqual(results.slice(0, 3).map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
  const reasons = results.slice(3).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'));
  assert.match(reasons[0], /nosuchdevice/, 'ip\'s own message');
  assert.match(reasons[1], /berth-no-such-namespace: No such file or directory/);
  assert.match(reasons[2], /missing: No such file or directory/);

  assert.equal(readFileSync(path.join(dir, 'a', 'merged', 'from-layer'), 'utf8'), 'a\n');
  assert.equal(readFileSync(path.join(dir, 'b', 'merged', 'from-layer'), 'utf8'), 'b\n');
  const lo = spawnSync('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout;
  assert.match(lo, /10\.254\.254\.1\/32/);
  // The namespace step ran only in the namespace: the host has no such address.
  assert.doesNotMatch(spawnSync('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout, /10\.254\.254\.1/);

  // Unmounting a busy mount detaches it; unmounting what is not mounted is fine.
  const busy = spawn('sleep', ['30'], { cwd: path.join(dir, 'b', 'merged'), stdio: 'ignore' });
  t.after(() => busy.kill('SIGKILL'));
  await Promise.all([
    runHostStep({ kind: 'umount', target: path.join(dir, 'a', 'merged') }),
    runHostStep({ kind: 'umount', target: path.join(dir, 'b', 'merged') }),
    runHostStep({ kind: 'umount', target: path.join(dir, 'a', 'upper') }),
  ]);
  const mounts = await listMountPoints();
  assert.ok(!mounts.includes(path.join(dir, 'a', 'merged')) && !mounts.includes(path.join(dir, 'b', 'merged')), 'both unmounted');
  assert.equal(existsSync(path.join(dir, 'a', 'merged', 'from-layer')), false);
});

test('a step with a tab or newline in a field is refused before anything runs', async () => {
  await assert.rejects(runHostStep({ kind: 'umount', target: '/tmp/x\nmount-overlay\t/\t/\t/' }), /tab, newline or NUL/);
});
