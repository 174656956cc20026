/**
 * Registry authentication against real registries: htpasswd (Basic), token (Bearer, with a
 * token server signing JWTs), credentials from a DOCKER_CONFIG directory (base64 auths and a
 * credential helper script), and berth login / logout.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RegistryError } from '../../src/errors.js';
import { ImageStore } from '../../src/images/store/index.js';
import { clearTokenCache, credentialsFor, loginRegistry, logoutRegistry, pullImage, pushImage } from '../../src/images/registry/index.js';
import { startRegistry } from '../helpers/registry.js';
import { buildImage } from './build-image.js';

const cleanups: (() => unknown)[] = [];
const afterHost = { after: (fn: () => unknown) => { cleanups.push(fn); } };
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshState(): Promise<{ root: string; store: ImageStore; env: NodeJS.ProcessEnv; dockerConfig: string }> {
  const root = mkdtempSync('/tmp/berth-test-');
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const dockerConfig = path.join(root, 'docker');
  mkdirSync(dockerConfig);
  const env = { ...process.env, BERTH_ROOT: root, DOCKER_CONFIG: dockerConfig, BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' };
  return { root, store: await ImageStore.open(path.join(root, 'images')), env, dockerConfig };
}

describe('registry authentication', () => {
  test('htpasswd: anonymous is refused with a login hint; berth login stores base64 auth that pull and push use; logout erases it', async () => {
    const registry = await startRegistry(afterHost, { auth: 'htpasswd', username: 'alice', password: 's3cret' });
    const state = await freshState();
    const ref = `${registry.host}/team/app:1`;
    await buildImage(state.store, ref, { layers: [{ files: { 'app.txt': 'basic\n' } }] });
    await assert.rejects(pushImage(state.store, ref, undefined, { env: state.env }), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 401);
      assert.match(err.message, /authentication required to access/);
      assert.equal(err.hint, `run "berth login ${registry.host}" first`);
      return true;
    });
    await assert.rejects(loginRegistry(registry.host, { username: 'alice', password: 'wrong' }, state.env), /authentication required/);
    const { file, helper } = await loginRegistry(registry.host, { username: 'alice', password: 's3cret' }, state.env);
    assert.equal(helper, undefined);
    assert.equal(file, path.join(state.dockerConfig, 'config.json'));
    const written = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(written.auths[registry.host].auth, 'base64').toString(), 'alice:s3cret');
    assert.deepEqual(await credentialsFor(registry.host, state.env), { username: 'alice', password: 's3cret' });

    await pushImage(state.store, ref, undefined, { env: state.env });
    const puller = await freshState();
    writeFileSync(path.join(puller.dockerConfig, 'config.json'), readFileSync(file));
    const image = await pullImage(puller.store, ref, { env: puller.env });
    assert.equal(readFileSync(path.join(puller.store.layerDir(image.layers[0].diffId), 'app.txt'), 'utf8'), 'basic\n');

    assert.equal(await logoutRegistry(registry.host, state.env), true);
    assert.equal(await credentialsFor(registry.host, state.env), undefined);
    assert.equal(await logoutRegistry(registry.host, state.env), false);
  });

  test('token auth: bearer tokens from the realm, scoped per repository, anonymous pull and authenticated push', async () => {
    clearTokenCache();
    const registry = await startRegistry(afterHost, { auth: 'token', username: 'bob', password: 'tok' });
    const state = await freshState();
    const ref = `${registry.host}/team/tokens:1`;
    await buildImage(state.store, ref, { layers: [{ files: { 'token.txt': 'bearer\n' } }] });
    // Anonymous tokens only carry pull access, so the push is denied.
    await assert.rejects(pushImage(state.store, ref, undefined, { env: state.env, retries: 0 }), RegistryError);
    writeFileSync(path.join(state.dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('bob:tok').toString('base64') } } }));
    await pushImage(state.store, ref, undefined, { env: state.env });
    assert.ok(registry.tokenRequests.some((request) => request.user === 'bob' && request.scope.includes('repository:team/tokens:pull,push')));

    const puller = await freshState();
    const image = await pullImage(puller.store, ref, { env: puller.env });
    assert.equal(readFileSync(path.join(puller.store.layerDir(image.layers[0].diffId), 'token.txt'), 'utf8'), 'bearer\n');
    assert.ok(registry.tokenRequests.some((request) => request.user === undefined && request.scope.includes('repository:team/tokens:pull')));
    // Tokens are cached: a second pull in this process asks the token server nothing new.
    const before = registry.tokenRequests.length;
    await pullImage((await freshState()).store, ref, { env: puller.env });
    assert.equal(registry.tokenRequests.length, before);
    // A wrong password is refused by the token server.
    clearTokenCache();
    await assert.rejects(loginRegistry(registry.host, { username: 'bob', password: 'nope' }, puller.env), /refused/);
    await loginRegistry(registry.host, { username: 'bob', password: 'tok' }, puller.env);
  });

  test('a credential helper from DOCKER_CONFIG supplies the password', async () => {
    const registry = await startRegistry(afterHost, { auth: 'htpasswd', username: 'carol', password: 'helper-pass' });
    const state = await freshState();
    const bin = path.join(state.root, 'bin');
    mkdirSync(bin);
    const log = path.join(state.root, 'helper.log');
    writeFileSync(path.join(bin, 'docker-credential-berthtest'), [
      '#!/bin/sh',
      'read -r input || true',
      `echo "$1 $input" >> ${log}`,
      'case "$1" in',
      '  get)',
      '    if [ "$input" = "' + registry.host + '" ]; then',
      '      printf \'{"ServerURL":"%s","Username":"carol","Secret":"helper-pass"}\' "$input"',
      '      exit 0',
      '    fi',
      '    echo "credentials not found in native keychain"',
      '    exit 1;;',
      '  store|erase) exit 0;;',
      'esac',
      'exit 1',
      '',
    ].join('\n'));
    chmodSync(path.join(bin, 'docker-credential-berthtest'), 0o755);
    writeFileSync(path.join(state.dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'berthtest' } }));
    const env = { ...state.env, PATH: `${bin}:${process.env.PATH}` };
    const ref = `${registry.host}/helped/app:1`;
    await buildImage(state.store, ref, { layers: [{ files: { 'helped.txt': 'helper\n' } }] });
    await pushImage(state.store, ref, undefined, { env });
    const puller = await freshState();
    const image = await pullImage(puller.store, ref, { env: { ...env, DOCKER_CONFIG: state.dockerConfig } });
    assert.equal(image.layers.length, 1);
    assert.match(readFileSync(log, 'utf8'), new RegExp(`^get ${registry.host.replace(/\./g, '\\.')}$`, 'm'));
    // berth login hands the credentials to the helper instead of writing them into config.json.
    const stored = await loginRegistry(registry.host, { username: 'carol', password: 'helper-pass' }, env);
    assert.equal(stored.helper, 'berthtest');
    assert.match(readFileSync(log, 'utf8'), /^store \{"ServerURL":"127\.0\.0\.1:\d+","Username":"carol","Secret":"helper-pass"\}$/m);
    assert.doesNotMatch(readFileSync(path.join(state.dockerConfig, 'config.json'), 'utf8'), /helper-pass/);
    assert.equal(await logoutRegistry(registry.host, env), true);
    assert.match(readFileSync(log, 'utf8'), new RegExp(`^erase ${registry.host.replace(/\./g, '\\.')}$`, 'm'));
    // A credsStore helper that knows nothing of a registry means "no credentials", not an error.
    writeFileSync(path.join(state.dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
    assert.equal(await credentialsFor('other.example:5000', env), undefined);
  });
});
