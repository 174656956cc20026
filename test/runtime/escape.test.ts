// A default container (root inside, Docker's confinement) must not reach the host: no host
// processes, no mounts, no kernel modules, no /proc/sys writes, no /proc/kcore, no leaked host
// file descriptors, no overwriting the runtime binary through /proc/<pid>/exe (CVE-2019-5736),
// no host block devices. Checked under berth-runtime, and under runc when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cannotRunContainers, ContainerLab, findRuntime, sha256File, sharedRootfs, type TestRuntime } from './runtimes.js';

const cannot = cannotRunContainers();

for (const name of ['berth', 'runc'] as const) {
  const runtime = findRuntime(name);
  const skip = cannot ?? (runtime ? undefined : `runtime "${name}" is not installed or built`);
  test(`escape attempts fail under ${name}`, { skip }, async (t) => {
    const rootfs = sharedRootfs(t);
    const rt = runtime as TestRuntime;

    await t.test('sees only its own processes', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const result = await lab.sh('ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "; echo; cat /proc/1/cmdline | tr "\\0" " "');
      assert.equal(result.exitCode, 0, result.stderr);
      const [pids, init] = result.stdout.split('\n');
      // PID 1 (the shell), ls, grep, sort, tr: a handful of small numbers, none of the host's.
      const numbers = pids.trim().split(' ').map(Number);
      assert.ok(numbers.length <= 6 && numbers.every((n) => n < 20), `container sees pids ${pids}`);
      assert.ok(!numbers.includes(process.pid) || process.pid < 20);
      assert.match(init, /^\/bin\/sh -c /);
    });

    await t.test('cannot mount, unshare or create namespaces', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const result = await lab.sh('mount -t tmpfs none /mnt && echo MOUNTED; unshare -m true && echo UNSHARED; unshare -n true && echo NETNS; echo done');
      assert.equal(result.stdout, 'done\n', `stdout: ${result.stdout} stderr: ${result.stderr}`);
      assert.match(result.stderr, /permission denied|Operation not permitted/i);
    });

    await t.test('cannot load kernel modules: no CAP_SYS_MODULE, modprobe path not writable', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const result = await lab.sh('grep CapBnd /proc/self/status; echo /tmp/x > /proc/sys/kernel/modprobe && echo WROTE; insmod /tmp/none.ko && echo LOADED; echo done');
      const bounding = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(result.stdout)?.[1] ?? 'ffffffffff'}`);
      assert.equal(bounding & (1n << 16n), 0n, 'CAP_SYS_MODULE in bounding set');
      assert.equal(bounding & (1n << 21n), 0n, 'CAP_SYS_ADMIN in bounding set');
      assert.doesNotMatch(result.stdout, /WROTE|LOADED/);
      assert.match(result.stdout, /done\n$/);
    });

    await t.test('cannot write /proc/sys or read /proc/kcore', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const result = await lab.sh('echo 3 > /proc/sys/vm/drop_caches && echo DROPPED; echo 1 > /proc/sysrq-trigger && echo SYSRQ; echo "kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c)"; echo "keys=$(cat /proc/keys 2>/dev/null | wc -c)"');
      assert.doesNotMatch(result.stdout, /DROPPED|SYSRQ/);
      assert.match(result.stdout, /kcore=0\n/);
      assert.match(result.stdout, /keys=0\n/);
    });

    await t.test('inherits no host file descriptors', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const secret = lab.file('host-secret.txt');
      writeFileSync(secret, 'host secret\n');
      const fds = [openSync(secret, 'r'), openSync(secret, 'r'), openSync(secret, 'r')];
      t.after(() => fds.forEach((fd) => closeSync(fd)));
      const id = lab.newId('fd');
      const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', 'ls -l /proc/self/fd/ | sed -n "s/.* \\([0-9]*\\) -> \\(.*\\)/\\1 \\2/p"'] });
      // Hand the runtime fds 3-5 without close-on-exec, as a careless parent process would.
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(rt.binary, ['--root', lab.driver.root, 'run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe', ...fds] });
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.on('error', reject);
        child.on('close', () => resolve(out));
      });
      const lines = output.trim().split('\n');
      assert.doesNotMatch(output, /host-secret/);
      const numbers = lines.map((line) => Number(line.split(' ')[0])).sort((a, b) => a - b);
      // 0, 1, 2, and at most the directory ls itself opened (busybox closes it before printing).
      assert.deepEqual(numbers.slice(0, 3), [0, 1, 2], output);
      assert.ok(numbers.length <= 4, output);
    });

    await t.test('cannot overwrite the runtime binary through /proc/<pid>/exe during exec (CVE-2019-5736)', async (t) => {
      // Attack a private copy: if the runtime were vulnerable, only the copy gets damaged.
      const binDir = mkdtempSync('/tmp/berth-test-exe-');
      t.after(() => rmSync(binDir, { recursive: true, force: true }));
      const copy = path.join(binDir, path.basename(rt.binary));
      copyFileSync(rt.binary, copy);
      const before = sha256File(copy);
      const lab = new ContainerLab({ name: rt.name, binary: copy }, rootfs, t);
      const driver = lab.driver;
      const id = lab.newId('exe');
      // Watch for any process that is not busybox, grab its exe, wait for it to exit, write through the fd.
      const attack = [
        'printf "#!/proc/self/exe\\n" > /evil; chmod +x /evil',
        'end=$(( $(date +%s) + 4 ))',
        'while [ $(date +%s) -lt $end ]; do',
        '  for d in /proc/[0-9]*; do',
        '    exe=$(readlink $d/exe 2>/dev/null) || continue',
        '    case "$exe" in *busybox*|"") continue;; esac',
        '    echo "saw $exe" >> /tmp/seen',
        // A failed redirection ends a subshell, not the attacker loop.
        '    ( exec 3< $d/exe || exit 0',
        '      i=0; while [ -e $d ] && [ $i -lt 500 ]; do i=$((i+1)); done',
        '      echo "#evil" >> /proc/self/fd/3 && echo "WROTE $exe" >> /tmp/seen ) 2>/dev/null',
        '  done',
        'done',
        'sleep 30',
      ].join('\n');
      const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', attack] });
      await driver.runDetached(id, dir);
      const deadline = Date.now() + 4000;
      for (let round = 0; round < 40 && Date.now() < deadline; round++) {
        await driver.exec(id, [round % 2 === 0 ? '/evil' : '/bin/true'], { timeoutMs: 5000 }).catch(() => undefined);
      }
      const seen = await driver.exec(id, ['/bin/sh', '-c', 'cat /tmp/seen 2>/dev/null; true']);
      if (process.env.BERTH_TEST_DEBUG) console.log(rt.name, JSON.stringify(seen.stdout));
      assert.doesNotMatch(seen.stdout, /WROTE/, seen.stdout);
      await driver.delete(id, { force: true });
      assert.equal(sha256File(copy), before, 'runtime binary changed');
      assert.equal(sha256File(rt.binary), before);
    });

    await t.test('cannot reach host devices: no block devices in /dev, device cgroup blocks mknod-ed nodes', async (t) => {
      const lab = new ContainerLab(rt, rootfs, t);
      const rootDev = statSync('/').dev;
      const major = Math.floor(rootDev / 256) & 0xfff;
      const minor = rootDev & 0xff;
      const result = await lab.sh(`find /dev -type b | wc -l; mknod /tmp/disk b ${major} ${minor} && echo made; head -c 1 /tmp/disk > /dev/null && echo READ; echo x > /tmp/disk && echo WRITTEN; mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem > /dev/null && echo MEM; echo done`);
      assert.match(result.stdout, /^0\n/);
      assert.doesNotMatch(result.stdout, /READ|WRITTEN|MEM/, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /done\n$/);
    });
  });
}
