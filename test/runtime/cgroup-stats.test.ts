// stats must read both cgroup layouts. This host is cgroup v1 "hybrid", so the v2 reader is
// checked against a directory laid out like /sys/fs/cgroup on a pure v2 host (and v1 likewise,
// so the test does not depend on which layout the machine has); the driver test covers the real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupVersion, parseRuntimeLog, readCgroupStats } from '../../src/runtime/index.js';

function tree(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const root = mkdtempSync('/tmp/berth-test-cgroup-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  return root;
}

test('cgroup v2: memory.current/max, cpu.stat usage_usec, pids; "max" means unlimited', (t) => {
  const root = tree(t, {
    'cgroup.controllers': 'cpuset cpu io memory pids\n',
    'berth/web-1/memory.current': '1048576\n',
    'berth/web-1/memory.max': '67108864\n',
    'berth/web-1/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
    'berth/web-1/pids.current': '3\n',
    'berth/web-1/pids.max': 'max\n',
  });
  assert.equal(cgroupVersion(root), 2);
  assert.deepEqual(readCgroupStats('/berth/web-1', root), {
    cgroupVersion: 2, memoryUsageBytes: 1048576, memoryLimitBytes: 67108864, cpuUsageNs: 2_500_000, pids: 3, pidsLimit: undefined,
  });
  assert.equal(readCgroupStats('/berth/gone', root), undefined);
});

test('cgroup v1: per-controller hierarchies; the huge "no limit" value means unlimited', (t) => {
  const root = tree(t, {
    'memory/berth/db-1/memory.usage_in_bytes': '2097152\n',
    'memory/berth/db-1/memory.limit_in_bytes': '9223372036854771712\n',
    'cpu,cpuacct/berth/db-1/cpuacct.usage': '123456789\n',
    'pids/berth/db-1/pids.current': '5\n',
    'pids/berth/db-1/pids.max': '100\n',
  });
  assert.equal(cgroupVersion(root), 1);
  assert.deepEqual(readCgroupStats('berth/db-1', root), {
    cgroupVersion: 1, memoryUsageBytes: 2097152, memoryLimitBytes: undefined, cpuUsageNs: 123456789, pids: 5, pidsLimit: 100,
  });
});

test('runtime logs: the last error of runc, crun and berth-runtime JSON lines', () => {
  assert.deepEqual(parseRuntimeLog('{"level":"warning","msg":"ignored"}\n{"level":"error","msg":"container does not exist","time":"x"}\n'), { message: 'container does not exist', errno: undefined });
  assert.deepEqual(parseRuntimeLog('{"level":"error","message":"create container \\"a\\": mount \\"/data\\": No such file or directory","errno":2,"time":"x"}\n'), { message: 'create container "a": mount "/data": No such file or directory', errno: 2 });
  assert.deepEqual(parseRuntimeLog('time="x" level=error msg="plain text"\n'), { message: 'time="x" level=error msg="plain text"' });
  assert.deepEqual(parseRuntimeLog(''), {});
});
