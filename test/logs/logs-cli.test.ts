// `berth logs` must show real containers' output as Docker Compose does: prefixed and aligned,
// --tail/--since/--until/-t/--index, colors only on a terminal, and -f following across log
// rotation until the containers exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cannotRunContainers } from '../runtime/runtimes.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { plainText, startBerth } from './helpers.js';

const skip = cannotRunContainers();

test('berth logs on real containers', { skip }, async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-logs-' });
  const project = `h5logs${process.pid}`;
  const dir = root.project(project, `services:
  a:
    image: ${testImage}
    command: ["sh", "-c", "echo a early; sleep 1.2; echo a late; echo a err >&2"]
  longname:
    image: ${testImage}
    deploy: { replicas: 2 }
    command: ["sh", "-c", "echo replica $$(hostname) one; echo two; echo three"]
  spam:
    image: ${testImage}
    logging: { driver: json-file, options: { max-size: "4k", max-file: "5" } }
    command: ["sh", "-c", "sleep 1; i=1; while [ $$i -le 120 ]; do echo spam line $$i padded to make rotation come sooner; i=$$((i+1)); [ $$((i % 10)) = 0 ] && sleep 0.05; done"]
`);
  const berth = (args: string[]) => runBerth(['-p', project, ...args], { cwd: dir, env: root.env });
  t.after(() => {
    berth(['down', '-t', '1']);
    root.remove();
  });
  const up = berth(['up', '-d']);
  assert.equal(up.status, 0, up.stderr);

  await t.test('-f follows across rotations (max-size 4k) and ends when the containers exit', async () => {
    const follow = startBerth(['-p', project, 'logs', '-f', '--no-log-prefix', 'spam'], { cwd: dir, env: root.env });
    assert.equal(await follow.exited, 0, follow.output());
    const spam = follow.output().split('\n').filter((line) => line.startsWith('spam line'));
    assert.deepEqual(spam.map((line) => Number(line.split(' ')[2])), Array.from({ length: 120 }, (_, i) => i + 1));
  });

  await t.test('all lines, prefixes padded to the longest name, merged by time, no color off a terminal', () => {
    const result = berth(['logs']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.ok(lines.includes('a-1        | a early'), result.stdout);
    assert.ok(lines.includes('a-1        | a late'));
    assert.ok(lines.includes('a-1        | a err'));
    assert.ok(lines.includes('longname-2 | two'));
    assert.ok(lines.indexOf('a-1        | a early') < lines.indexOf('a-1        | a late'));
    assert.doesNotMatch(result.stdout, /\x1b\[/);
    assert.equal(lines.filter((line) => line.startsWith('spam-1     | spam line')).length, 120);
  });

  await t.test('--tail per container, --index, --no-log-prefix', () => {
    const tail = berth(['logs', '--tail', '1', 'longname']);
    assert.deepEqual(tail.stdout.trimEnd().split('\n').sort(), ['longname-1 | three', 'longname-2 | three']);
    const second = berth(['logs', '--index', '2', '--no-log-prefix', 'longname']).stdout.trimEnd().split('\n');
    assert.deepEqual(second.slice(1), ['two', 'three']);
    assert.match(second[0], /^replica \S+ one$/);
    const unknown = berth(['logs', 'nosuch']);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no such service: "nosuch"/);
  });

  await t.test('-t, --since and --until', () => {
    const stamped = berth(['logs', '-t', 'a']).stdout.trimEnd().split('\n');
    const late = stamped.find((line) => line.endsWith(' a late'));
    assert.ok(late, stamped.join('\n'));
    const time = /\| (\S+) a late$/.exec(late)![1];
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.deepEqual(berth(['logs', '--no-log-prefix', '--since', time, 'a']).stdout.trimEnd().split('\n'), ['a late', 'a err']);
    assert.deepEqual(berth(['logs', '--no-log-prefix', '--until', time, 'a']).stdout.trimEnd().split('\n'), ['a early']);
    assert.equal(berth(['logs', '--no-log-prefix', '--since', '1h', 'a']).stdout.trimEnd().split('\n').length, 3);
    const bad = berth(['logs', '--since', 'soon']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid value "soon" for --since/);
  });

  await t.test('colors on a terminal, none with --no-color or NO_COLOR', async () => {
    const colored = startBerth(['-p', project, 'logs', 'a', 'longname'], { cwd: dir, env: root.env, pty: true });
    assert.equal(await colored.exited, 0);
    assert.match(colored.output(), /\x1b\[36ma-1 {8}\| \x1b\[0ma early/);
    assert.match(colored.output(), /\x1b\[33mlongname-1 \| \x1b\[0m/);
    const flag = startBerth(['-p', project, 'logs', '--no-color', 'a'], { cwd: dir, env: root.env, pty: true });
    const variable = startBerth(['-p', project, 'logs', 'a'], { cwd: dir, env: { ...root.env, NO_COLOR: '1' }, pty: true });
    await Promise.all([flag.exited, variable.exited]);
    for (const run of [flag, variable]) {
      assert.doesNotMatch(run.output(), /\x1b\[3/);
      assert.match(plainText(run.output()), /a-1 \| a early/);
    }
  });
});
