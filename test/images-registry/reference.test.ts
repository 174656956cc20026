/** Image references are parsed and normalized the way Docker does, with clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError } from '../../src/errors.js';
import { familiarReference, normalizeReference, parseReference } from '../../src/images/reference.js';

test('short names normalize to docker.io/library with tag latest', () => {
  assert.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeReference('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeReference('team/app'), 'docker.io/team/app:latest');
  assert.equal(normalizeReference('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeReference('docker.io/busybox'), 'docker.io/library/busybox:latest');
});

test('registry hosts: dots, ports, localhost, IPv6', () => {
  assert.deepEqual(parseReference('localhost:5000/a/b:tag'), { domain: 'localhost:5000', path: 'a/b', tag: 'tag', digest: undefined });
  assert.deepEqual(parseReference('localhost/app'), { domain: 'localhost', path: 'app', tag: 'latest', digest: undefined });
  assert.deepEqual(parseReference('ghcr.io/owner/repo/sub:v1'), { domain: 'ghcr.io', path: 'owner/repo/sub', tag: 'v1', digest: undefined });
  assert.deepEqual(parseReference('[::1]:5000/x'), { domain: '[::1]:5000', path: 'x', tag: 'latest', digest: undefined });
  // Without a dot, a port or "localhost" the first component is a Docker Hub user.
  assert.equal(normalizeReference('myhost/app'), 'docker.io/myhost/app:latest');
});

test('digests, alone or with a tag', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseReference(`127.0.0.1:5000/x@${digest}`), { domain: '127.0.0.1:5000', path: 'x', tag: undefined, digest });
  assert.equal(normalizeReference(`busybox:1@${digest}`), `docker.io/library/busybox:1@${digest}`);
  assert.equal(familiarReference(`docker.io/library/busybox@${digest}`), `busybox@${digest}`);
  assert.equal(familiarReference('docker.io/team/app:2'), 'team/app:2');
  assert.equal(familiarReference('localhost:5000/app:2'), 'localhost:5000/app:2');
});

test('invalid references say which rule they break', () => {
  const cases: [string, RegExp][] = [
    ['', /empty reference/],
    ['Busybox', /repository name must be lowercase/],
    ['busybox:', /tag "" may hold only/],
    ['busybox:-x', /tag "-x"/],
    ['a//b', /path component ""/],
    ['busy--box_', /path component "busy--box_"/],
    ['x@sha256:abc', /is not a digest|64 lowercase hex/],
    ['has space', /contains whitespace/],
    [`host:5000/${'a'.repeat(260)}`, /longer than 255/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof ImageError, input);
      assert.match(err.message, /^invalid reference format/);
      assert.match(err.message, message, input);
      assert.ok(err.hint);
      return true;
    });
  }
});
