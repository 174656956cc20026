// The driver must carry a container through its whole lifecycle with whichever runtime is
// selected (BERTH_TEST_RUNTIME=berth|runc|crun, default berth-runtime), and turn runtime failures
// into RuntimeErrors that name the container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { RuntimeError } from '../../src/errors.js';
import { isNotFoundError, RuntimeDriver } from '../../src/runtime/index.js';
import { cannotRunContainers, ContainerLab, findRuntime, selectedRuntimeName, sharedRootfs, type TestRuntime } from './runtimes.js';

const runtimeName = selectedRuntimeName();
const runtime = findRuntime(runtimeName);
const skipReason = cannotRunContainers() ?? (runtime ? undefined : `runtime "${runtimeName}" is not installed or built (make -C runtime)`);
let rootfs = '';

test(`driver lifecycle under ${runtimeName}`, { skip: skipReason }, async (t) => {
  rootfs = sharedRootfs(t);
  const rt = runtime as TestRuntime;

  await t.test('attached run returns exit code, stdout, stderr and reads stdin', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    assert.deepEqual(await lab.sh('exit 0'), { exitCode: 0, stdout: '', stderr: '' });
    const id = lab.newId();
    const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 3'] });
    const streamed: string[] = [];
    const withInput = await lab.driver.run(id, dir, { input: 'hello\n', onOutput: (stream, chunk) => streamed.push(`${stream}:${chunk.toString()}`) });
    assert.deepEqual(withInput, { exitCode: 3, stdout: 'got hello\n', stderr: 'oops\n' });
    assert.deepEqual(streamed.sort(), ['stderr:oops\n', 'stdout:got hello\n']);
  });

  await t.test('create, start, state, ps, exec, pause, resume, stats, kill, delete', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    const id = lab.newId('life');
    const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.05; done'], resources: { pidsLimit: 64, memory: 64 * 1024 * 1024 } });
    await lab.driver.create(id, dir);
    const created = await lab.driver.state(id);
    assert.equal(created.status, 'created');
    assert.equal(created.id, id);
    assert.ok(created.pid > 0);
    await lab.driver.start(id);
    assert.equal((await lab.driver.state(id)).status, 'running');
    assert.ok((await lab.driver.list()).some((entry) => entry.id === id && entry.status === 'running'));
    const pids = await lab.driver.ps(id);
    assert.ok(pids.includes(created.pid), `ps ${pids} includes init ${created.pid}`);

    const exec = await lab.driver.exec(id, ['/bin/sh', '-c', 'echo "$FOO in $(pwd) as $(id -u):$(id -g)"; exit 4'], { env: ['FOO=bar'], cwd: '/tmp', user: { uid: 1000, gid: 1000 } });
    assert.deepEqual(exec, { exitCode: 4, stdout: 'bar in /tmp as 1000:1000\n', stderr: '' });

    await lab.driver.pause(id);
    assert.equal((await lab.driver.state(id)).status, 'paused');
    await lab.driver.resume(id);
    assert.equal((await lab.driver.state(id)).status, 'running');

    const stats = await lab.driver.stats(id);
    assert.ok(stats.pids >= 1 && stats.pids <= 64, `pids ${stats.pids}`);
    assert.equal(stats.pidsLimit, 64);
    assert.equal(stats.memoryLimitBytes, 64 * 1024 * 1024);
    assert.ok(stats.memoryUsageBytes > 0);

    await lab.driver.kill(id, 'SIGTERM');
    const stopped = await lab.driver.waitStopped(id, 5000);
    assert.equal(stopped.status, 'stopped');
    if (rt.name === 'berth') assert.equal(stopped.exitCode, 7);
    await lab.driver.delete(id);
    await assert.rejects(lab.driver.state(id), (err: unknown) => isNotFoundError(err) && (err as RuntimeError).message.includes(`"${id}"`));
    assert.equal((await lab.driver.list()).some((entry) => entry.id === id), false);
  });

  await t.test('detached run keeps going after the driver returns; delete --force stops it', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    const id = lab.newId('bg');
    const logPath = lab.file('bg.log');
    const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', 'echo started; exec sleep 30'], log: { path: logPath } });
    await lab.driver.runDetached(id, dir, { outputFile: logPath });
    assert.equal((await lab.driver.state(id)).status, 'running');
    // berth-runtime's monitor writes Docker json-file lines; runc/crun write raw output to the file we gave.
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline && !text.includes('started')) {
      text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(text, /started/);
    if (rt.name === 'berth') {
      const first = JSON.parse(text.split('\n')[0]) as { log: string; stream: string; time: string };
      assert.equal(first.log, 'started\n');
      assert.equal(first.stream, 'stdout');
    }
    await lab.driver.delete(id, { force: true });
    await assert.rejects(lab.driver.state(id), isNotFoundError);
  });

  await t.test('failures are RuntimeErrors naming the container and the runtime message', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    const id = lab.newId('bad');
    const { dir } = lab.bundle({ id, args: ['/no/such/program'] });
    await assert.rejects(lab.driver.run(id, dir), (err: unknown) => {
      assert.ok(err instanceof RuntimeError, String(err));
      assert.match(err.message, new RegExp(`^run container "${id}": .*(no such file|not found|/no/such/program)`, 'i'));
      assert.equal(err.details.containerId, id);
      return true;
    });
    await assert.rejects(lab.driver.kill('never-created', 'KILL'), (err: unknown) => isNotFoundError(err) && /kill container "never-created"/.test((err as Error).message));
    await lab.driver.delete('never-created', { ignoreMissing: true });
    const slowId = lab.newId('slow');
    const slow = lab.bundle({ id: slowId, args: ['sleep', '30'] });
    await assert.rejects(lab.driver.run(slowId, slow.dir, { timeoutMs: 500 }), new RegExp(`run container "${slowId}": runtime did not finish within 500 ms`));
    const missing = new RuntimeDriver({ binary: '/nonexistent/berth-runtime', root: lab.file('x') });
    await assert.rejects(missing.state('x'), /cannot run container runtime "\/nonexistent\/berth-runtime"/);
  });

  await t.test('seccomp end to end: custom actions, errno values and argument rules are enforced', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    const script = [
      'mkdir /tmp/blocked 2>&1 || echo "mkdir failed"',
      'touch /tmp/file && echo "touch ok"',
      'kill -0 1 2>&1 || echo "kill 0 failed"',
      'kill -CONT 1 && echo "kill CONT ok"',
      'grep Seccomp: /proc/self/status | tr -d "\\t"',
    ].join('; ');
    const result = await lab.sh(script, {
      seccomp: {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
        ],
      },
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /not supported/i);
    assert.match(result.stdout, /mkdir failed\ntouch ok\n/);
    assert.match(result.stdout, /not permitted[^\n]*\nkill 0 failed\nkill CONT ok\nSeccomp:2\n$/i);
    // The default profile: mount and unshare fail even for root, ordinary commands work.
    const defaults = await lab.sh('unshare -U true 2>&1 || echo "unshare failed"; ls / > /dev/null && echo ls ok');
    assert.match(defaults.stdout, /not permitted\s*\nunshare failed\nls ok\n/i);
  });

  await t.test('berth annotations: init as PID 1, stdin fifo, json-file log', async (t) => {
    if (rt.name !== 'berth') {
      t.skip(`run.berth.* annotations are berth-runtime features; ${rt.name} ignores them`);
      return;
    }
    const lab = new ContainerLab(rt, rootfs, t);
    const withInit = await lab.sh('echo "pid $$"; cat /proc/1/cmdline | tr "\\0" " "', { init: true });
    assert.match(withInit.stdout, /^pid ([2-9]|\d\d+)\n/);
    assert.doesNotMatch(withInit.stdout, /\n\/bin\/sh -c/);
    const id = lab.newId('stdin');
    const logPath = lab.file('stdin.log');
    const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', 'while read line; do echo "echo: $line"; done'], stdin: true, log: { path: logPath } });
    await lab.driver.runDetached(id, dir);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(lab.driver.stdinPath(id), 'one\n');
    appendFileSync(lab.driver.stdinPath(id), 'two\n');
    const deadline = Date.now() + 5000;
    let lines: { log: string; stream: string }[] = [];
    while (Date.now() < deadline && lines.length < 2) {
      lines = existsSync(logPath) ? readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string }) : [];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(lines.map((l) => [l.stream, l.log]), [['stdout', 'echo: one\n'], ['stdout', 'echo: two\n']]);
    await lab.driver.delete(id, { force: true });
  });

  await t.test('writeBundle replaces config.json atomically and leaves no temp files', async (t) => {
    const lab = new ContainerLab(rt, rootfs, t);
    const first = lab.bundle({ id: 'atomic', args: ['true'] });
    const second = lab.bundle({ id: 'atomic', args: ['false'] });
    assert.deepEqual(readdirSync(second.dir), ['config.json']);
    assert.deepEqual(JSON.parse(readFileSync(`${first.dir}/config.json`, 'utf8')).process.args, ['false']);
  });
});
