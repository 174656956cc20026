/**
 * The image commands as users run them (the built CLI in a child process) against a real
 * registry: push, pull (references and a compose project's services with pull_policy),
 * images, image inspect, rmi, image prune, login and logout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ImageStore } from '../../src/images/store/index.js';
import { runBerth } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage, buildImage } from './build-image.js';

const cleanups: (() => unknown)[] = [];
const afterHost = { after: (fn: () => unknown) => { cleanups.push(fn); } };
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function freshRoot(): { root: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync('/tmp/berth-test-');
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'docker'));
  return { root, env: { BERTH_ROOT: root, DOCKER_CONFIG: path.join(root, 'docker'), BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' } };
}

describe('image commands', () => {
  let registry: TestRegistry;
  let ref: string;
  let imageId: string;

  before(async () => {
    registry = await startRegistry(afterHost);
    const { root, env } = freshRoot();
    ref = `${registry.host}/cli/busybox:1`;
    const built = await buildBusyboxImage(await ImageStore.open(path.join(root, 'images')), ref);
    imageId = built.id;
    const pushed = runBerth(['push', ref], { env, cwd: root });
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.match(pushed.stdout, new RegExp(`${ref}: digest: sha256:[a-f0-9]{64}`));
  });

  test('pull, images, inspect, rmi', () => {
    const { root, env } = freshRoot();
    const pulled = runBerth(['pull', ref], { env, cwd: root });
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.match(pulled.stderr, /Pull complete/);
    assert.match(pulled.stderr, /Pulled sha256:/);

    const table = runBerth(['images'], { env, cwd: root });
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(lines[1], new RegExp(`^${registry.host}/cli/busybox\\s+1\\s+${imageId.slice(7, 19)}\\s+`));
    const json = runBerth(['images', '--format', 'json'], { env, cwd: root });
    const row = JSON.parse(json.stdout.trim().split('\n')[0]) as { Repository: string; Tag: string; ID: string };
    assert.deepEqual([row.Repository, row.Tag, row.ID], [`${registry.host}/cli/busybox`, '1', imageId.slice(7, 19)]);
    assert.equal(runBerth(['images', '-q'], { env, cwd: root }).stdout, `${imageId.slice(7, 19)}\n`);

    const inspect = runBerth(['image', 'inspect', ref], { env, cwd: root });
    assert.equal(inspect.status, 0, inspect.stderr);
    const [document] = JSON.parse(inspect.stdout) as { Id: string; RepoTags: string[]; RootFS: { Layers: string[] } }[];
    assert.equal(document.Id, imageId);
    assert.deepEqual(document.RepoTags, [ref]);
    assert.equal(document.RootFS.Layers.length, 2);
    const missing = runBerth(['image', 'inspect', 'nosuch:1'], { env, cwd: root });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /error: no such image: "nosuch:1"/);

    const tagged = runBerth(['image', 'tag', imageId.slice(7, 19), 'local/copy:2'], { env, cwd: root });
    assert.equal(tagged.status, 0, tagged.stderr);
    const untag = runBerth(['rmi', 'local/copy:2'], { env, cwd: root });
    assert.equal(untag.stdout, 'Untagged: local/copy:2\n');

    const removed = runBerth(['rmi', ref, 'nosuch:2'], { env, cwd: root });
    assert.equal(removed.status, 1);
    assert.match(removed.stdout, new RegExp(`Untagged: ${ref}\nDeleted: ${imageId}`));
    assert.match(removed.stderr, /no such image "nosuch:2"/);
    assert.equal(runBerth(['images', '-q'], { env, cwd: root }).stdout, '');
    assert.deepEqual(readdirSync(path.join(root, 'images', 'blobs', 'sha256')), []);
    assert.deepEqual(readdirSync(path.join(root, 'images', 'layers', 'sha256')), []);
  });

  test('image prune removes dangling images, -a every unused one', async () => {
    const { root, env } = freshRoot();
    const store = await ImageStore.open(path.join(root, 'images'));
    await buildImage(store, 'local/app:1', { layers: [{ files: { a: 'first\n' } }] });
    await buildImage(store, 'local/app:1', { layers: [{ files: { a: 'second\n' } }] });
    await buildImage(store, 'local/other:1', { layers: [{ files: { b: 'other\n' } }] });
    assert.equal((await store.listImages()).length, 3);
    const dangling = runBerth(['image', 'prune', '--force'], { env, cwd: root });
    assert.equal(dangling.status, 0, dangling.stderr);
    assert.match(dangling.stdout, /Deleted Images:\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: \d/);
    assert.deepEqual((await store.listImages()).map((image) => image.refs[0]).sort(), ['docker.io/local/app:1', 'docker.io/local/other:1']);
    const refused = runBerth(['image', 'prune', '-a'], { env, cwd: root, input: 'n\n' });
    assert.equal(refused.status, 1);
    assert.equal((await store.listImages()).length, 2);
    const all = runBerth(['image', 'prune', '-a', '--force'], { env, cwd: root });
    assert.equal(all.status, 0, all.stderr);
    assert.deepEqual(await store.listImages(), []);
    assert.deepEqual(readdirSync(path.join(root, 'images', 'blobs', 'sha256')), []);
  });

  test('pull of a compose project honours pull_policy', () => {
    const { root, env } = freshRoot();
    writeFileSync(path.join(root, 'compose.yaml'), [
      'services:',
      '  web:',
      `    image: ${ref}`,
      '    pull_policy: missing',
      '  tool:',
      `    image: ${ref}`,
      '    pull_policy: daily',
      '  local:',
      '    image: local/never:1',
      '    pull_policy: never',
      '',
    ].join('\n'));
    const first = runBerth(['pull'], { env, cwd: root });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /^web Pulled sha256:/m);
    assert.match(first.stderr, /^tool Pulled sha256:/m);
    assert.doesNotMatch(first.stderr, /^local /m);
    const state = JSON.parse(readFileSync(path.join(root, 'images', 'images.json'), 'utf8')) as { pulls: Record<string, string> };
    assert.ok(state.pulls[ref]);
    // Present and pulled today: neither "missing" nor "daily" pulls again.
    const second = runBerth(['pull'], { env, cwd: root });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stderr, '');
    const forced = runBerth(['pull', '--policy', 'always', 'web'], { env, cwd: root });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /^web Pulled/m);
    assert.doesNotMatch(forced.stderr, /^tool /m);
  });

  test('login with --password-stdin, then logout', async () => {
    const secured = await startRegistry(afterHost, { auth: 'htpasswd', username: 'dave', password: 'pw1' });
    const { root, env } = freshRoot();
    const bad = runBerth(['login', '-u', 'dave', '--password-stdin', secured.host], { env, cwd: root, input: 'wrong\n' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^error: authentication required/m);
    const good = runBerth(['login', '-u', 'dave', '--password-stdin', secured.host], { env, cwd: root, input: 'pw1\n' });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Login Succeeded/);
    const config = JSON.parse(readFileSync(path.join(root, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[secured.host].auth, 'base64').toString(), 'dave:pw1');
    const out = runBerth(['logout', secured.host], { env, cwd: root });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, `Removing login credentials for ${secured.host}\n`);
  });
});
