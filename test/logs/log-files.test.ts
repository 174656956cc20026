// Reading json-file logs must give each line once, in order, across rotations and split
// entries; following must survive rotation (even two rotations between reads), recreation
// and torn writes. These files are written in the exact format the runtime's monitor uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { followLogs, parseLogTime, readLogs, type LogLine } from '../../src/engine/logs.js';

const t0 = Date.parse('2024-01-01T00:00:00Z');
const entry = (second: number, log: string, stream = 'stdout') =>
  `${JSON.stringify({ log, stream, time: new Date(t0 + second * 1000).toISOString().replace('Z', '123456Z') })}\n`;
const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => entry(from + i, `line ${from + i}\n`)).join('');

function makeLog(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync('/tmp/berth-logs-unit-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logPath = path.join(dir, 'demo-web-1', 'demo-web-1-json.log');
  mkdirSync(path.dirname(logPath));
  return { dir, logPath, source: { name: 'demo-web-1', service: 'web', number: 1, logPath } };
}

const texts = (list: LogLine[]) => list.map((line) => line.text);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

test('readLogs: rotations oldest first, split entries joined, torn last line left out', async (t) => {
  const { logPath, source } = makeLog(t);
  writeFileSync(`${logPath}.2`, lines(3, 0));
  writeFileSync(`${logPath}.1`, entry(3, 'split-') + entry(3, 'oops\n', 'stderr') + entry(4, 'line\n'));
  writeFileSync(logPath, lines(2, 5) + '{"log":"torn');
  const all = await readLogs(source);
  assert.deepEqual(texts(all), ['line 0', 'line 1', 'line 2', 'oops', 'split-line', 'line 5', 'line 6']);
  assert.deepEqual(all.map((line) => line.stream), ['stdout', 'stdout', 'stdout', 'stderr', 'stdout', 'stdout', 'stdout']);
  assert.equal(all[0].name, 'demo-web-1');
  assert.equal(all[0].time, '2024-01-01T00:00:00.000123456Z');
});

test('readLogs: --tail reads from the end across files, with since/until applied first', async (t) => {
  const { logPath, source } = makeLog(t);
  writeFileSync(`${logPath}.1`, lines(100, 0));
  writeFileSync(logPath, lines(3, 100));
  assert.deepEqual(texts(await readLogs(source, { tail: 5 })), ['line 98', 'line 99', 'line 100', 'line 101', 'line 102']);
  assert.deepEqual(texts(await readLogs(source, { tail: 0 })), []);
  assert.deepEqual(texts(await readLogs(source, { tail: 2, until: t0 + 50_000 })), ['line 48', 'line 49']);
  assert.deepEqual(texts(await readLogs(source, { tail: 50, since: t0 + 101_000 })), ['line 101', 'line 102']);
  assert.deepEqual(texts(await readLogs(source, { since: t0 + 97_500, until: t0 + 100_000 })), ['line 98', 'line 99']);
  assert.deepEqual(texts(await readLogs(source, { tail: 1, timestamps: true })), ['2024-01-01T00:01:42.000123456Z line 102']);
});

test('parseLogTime: RFC 3339, dates, Unix seconds and durations; a bad value says what to give', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(parseLogTime('2024-05-01T10:00:00Z', '--since', now), Date.parse('2024-05-01T10:00:00Z'));
  assert.equal(parseLogTime('2024-05-01T10:00:00.5+02:00', '--since', now), Date.parse('2024-05-01T08:00:00.5Z'));
  assert.equal(parseLogTime('1714557600.25', '--since', now), 1714557600250);
  assert.equal(parseLogTime('10m', '--since', now), now - 600_000);
  assert.equal(parseLogTime('1h30m', '--since', now), now - 5_400_000);
  assert.equal(parseLogTime('2024-05-01', '--since', now), new Date(2024, 4, 1).getTime());
  assert.throws(() => parseLogTime('yesterday', '--until', now), /invalid value "yesterday" for --until/);
});

test('followLogs: history, then new lines across two rotations between reads, torn writes and recreation', async (t) => {
  const { logPath, source } = makeLog(t);
  writeFileSync(logPath, lines(3, 0) + '{"log":"to');
  const seen: string[] = [];
  const follow = followLogs([source], { tail: 1 }, (line) => seen.push(line.text));
  t.after(() => follow.stop());
  await follow.ready;
  assert.deepEqual(seen, ['line 2']);
  appendFileSync(logPath, `rn\\n","stream":"stdout","time":"2024-01-01T00:00:03Z"}\n`);
  await until(() => seen.length === 2, 'torn line completed');
  assert.equal(seen[1], 'torn');
  // Two rotations before the follower looks again: log → .1 → .2.
  renameSync(logPath, `${logPath}.1`);
  writeFileSync(logPath, lines(2, 10));
  renameSync(`${logPath}.1`, `${logPath}.2`);
  renameSync(logPath, `${logPath}.1`);
  writeFileSync(logPath, lines(2, 20));
  await until(() => seen.length === 6, 'lines after rotation');
  assert.deepEqual(seen.slice(2), ['line 10', 'line 11', 'line 20', 'line 21']);
  // Recreated container: the directory goes away and comes back with a new log.
  rmSync(path.dirname(logPath), { recursive: true });
  await sleep(100);
  mkdirSync(path.dirname(logPath));
  writeFileSync(logPath, entry(30, 'new container\n') + entry(31, 'last words without newline'));
  await until(() => seen.length === 8, 'recreated container and its partial last line');
  assert.deepEqual(seen.slice(6), ['new container', 'last words without newline']);
  // A second container added later.
  const other = { ...source, name: 'demo-db-1', service: 'db', logPath: path.join(path.dirname(logPath), 'db-json.log') };
  writeFileSync(other.logPath, entry(40, 'db history\n'));
  await follow.add(other);
  appendFileSync(other.logPath, entry(41, 'db live\n'));
  await until(() => seen.length === 10, 'added container');
  assert.deepEqual(seen.slice(8), ['db history', 'db live']);
});
