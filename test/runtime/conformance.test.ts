// The same bundle must produce the same container under berth-runtime, runc and crun: what a
// process inside can observe (capabilities, no_new_privs, seccomp mode, ids, hostname, mounts,
// masked/read-only paths, rlimits, /dev, environment) must match between runtimes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ContainerSpec } from '../../src/runtime/index.js';
import { cannotRunContainers, ContainerLab, findRuntime, sharedRootfs, type TestRuntime } from './runtimes.js';

/** A script printing one "key: value" observation per line; values are normalized to what should be runtime-independent. */
const observe = [
  'for k in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do grep "^$k:" /proc/self/status | tr -d "\\t"; done',
  'echo "id: $(id)"',
  'echo "hostname: $(hostname)"',
  'echo "cwd: $(pwd)"',
  'echo "env: $(env | grep -v -e ^SHLVL= -e ^PWD= -e ^_= | sort | tr "\\n" " ")"',
  // mountinfo: target, fs type, ro/rw (the first mount option); mount ids and peer groups differ legitimately.
  // The cgroup v1 tmpfs at /sys/fs/cgroup is left writable by runc/crun and made read-only by
  // berth-runtime (stricter, and nothing can be mounted there without CAP_SYS_ADMIN anyway).
  // Masked files are covered by a bind of some /dev/null (the container's: tmpfs; crun: the
  // host's devtmpfs): only that they are covered counts, and the "masked:" lines check behaviour.
  'awk \'{ split($6, o, ","); for (i = 1; i <= NF; i++) if ($i == "-") t = $(i+1); if ($5 == "/sys/fs/cgroup" && t == "tmpfs") o[1] = "ro|rw"; if ($5 ~ /^\\/(proc|sys)\\// && (t == "tmpfs" || t == "devtmpfs")) { t = "(masked)"; o[1] = "" } print "mount: " $5 " " t " " o[1] }\' /proc/self/mountinfo | sort',
  // Only whether a path shows content: unmasked /proc files change between reads.
  'for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /sys/firmware /proc/scsi; do n=$(head -c 64 $p 2>/dev/null | wc -c); [ "$n" -gt 0 ] && c=content || c=empty; echo "masked: $p $c $(ls $p 2>/dev/null | wc -l)"; done',
  'for p in /proc/sys/kernel/domainname /proc/sysrq-trigger /proc/irq/default_smp_affinity; do (echo x > $p) 2>/dev/null && echo "writable: $p yes" || echo "writable: $p no"; done',
  'grep -E "^Max (open files|processes|core file size|stack size)" /proc/self/limits | sed "s/  */ /g; s/^/limit: /"',
  // /dev/core -> /proc/kcore: runc makes it only when the host has /proc/kcore, crun and berth-runtime always.
  'for f in /dev/* /dev/pts/* /dev/shm /dev/mqueue; do [ "$f" = /dev/core ] || echo "dev: $(stat -c "%n %F %a %u %g %t %T" $f)"; done',
  'echo "shm: $(df -k /dev/shm | tail -1 | awk \'{print $2}\')"',
  'echo "umask: $(umask)"',
  'echo "sysctl: $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)"',
  'touch /probe 2>/dev/null && echo "rootfs: rw" || echo "rootfs: ro"',
  // Behaviour behind seccomp and capabilities: exit statuses only, messages are the tools'.
  'unshare -U true 2>/dev/null; echo "unshare -U: $?"',
  'mount -t tmpfs none /mnt 2>/dev/null; echo "mount: $?"; umount /mnt 2>/dev/null',
  'mknod /tmp/null2 c 1 3 2>/dev/null; echo "mknod: $?"; rm -f /tmp/null2',
  'chroot / true 2>/dev/null; echo "chroot: $?"',
].join('\n');

const runtimes = (['berth', 'runc', 'crun'] as const).map((name) => findRuntime(name)).filter((rt): rt is TestRuntime => rt !== undefined);
const cannot = cannotRunContainers();
const skip = cannot ?? (runtimes.length < 2 ? `needs berth-runtime and at least one of runc/crun; found ${runtimes.map((r) => r.name).join(', ') || 'none'}` : undefined);
if (skip) console.log(`# conformance skipped: ${skip}`);

function diff(a: string, b: string): string {
  const left = new Set(a.split('\n'));
  const right = new Set(b.split('\n'));
  return [...[...left].filter((l) => !right.has(l)).map((l) => `- ${l}`), ...[...right].filter((l) => !left.has(l)).map((l) => `+ ${l}`)].join('\n');
}

test(`same bundle, same container under ${runtimes.map((r) => r.name).join(', ')}`, { skip }, async (t) => {
  const rootfs = sharedRootfs(t);
  const hostDir = mkdtempSync('/tmp/berth-test-bind-');
  t.after(() => rmSync(hostDir, { recursive: true, force: true }));
  writeFileSync(`${hostDir}/hello.txt`, 'hello\n');

  const cases: Record<string, Omit<ContainerSpec, 'id' | 'rootfs' | 'args'>> = {
    'docker defaults as root': {},
    'non-root user, cap_drop ALL + NET_BIND_SERVICE, no-new-privileges, read-only root, mounts, ulimits': {
      user: { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' }, capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'],
      noNewPrivileges: true, readOnly: true, hostname: 'conf', env: ['FOO=bar'], cwd: '/tmp',
      mounts: [{ type: 'bind', source: hostDir, target: '/data', readOnly: true }, { type: 'tmpfs', target: '/tmp', tmpfsMode: 0o1777 }],
      ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } }, shmSize: 8 * 1024 * 1024,
      sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    },
    // Seccomp must be in place although the user cannot install filters itself (no CAP_SYS_ADMIN, no no_new_privs).
    'non-root user string, default seccomp without no-new-privileges': { user: '1000:1000' },
    'extra capabilities and unconfined seccomp': { capAdd: ['SYS_ADMIN', 'NET_ADMIN'], seccomp: 'unconfined' },
    'privileged with the host devices': { privileged: true },
  };

  for (const [caseName, extra] of Object.entries(cases)) {
    await t.test(caseName, async (t) => {
      const observations = new Map<string, string>();
      for (const rt of runtimes) {
        const lab = new ContainerLab(rt, rootfs, t);
        const id = 'conformance';
        const { dir } = lab.bundle({ id, args: ['/bin/sh', '-c', observe], ...extra });
        const result = await lab.driver.run(id, dir, { timeoutMs: 20_000 });
        assert.equal(result.exitCode, 0, `${rt.name}: ${result.stderr}`);
        observations.set(rt.name, result.stdout);
        await lab.driver.delete(id, { force: true, ignoreMissing: true });
      }
      const [first, ...others] = runtimes;
      const reference = observations.get(first.name) as string;
      assert.match(reference, /^CapBnd:/m);
      assert.match(reference, /^mount: \/proc proc/m);
      if (process.env.BERTH_TEST_DEBUG) console.log(reference);
      const differences = others
        .filter((rt) => observations.get(rt.name) !== reference)
        .map((rt) => `${first.name} vs ${rt.name} differ:\n${diff(reference, observations.get(rt.name) as string)}`);
      assert.equal(differences.join('\n'), '', `observations of ${first.name}:\n${reference}`);
    });
  }
});
