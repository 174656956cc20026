/** Unit tests of the short-syntax parsers shared with the normalizer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseByteSize, parseDuration, parseExposeSpec, parsePortSpec, parseVolumeSpec } from '../../src/validate/index.js';

test('parsePortSpec expands the short forms into long syntax', () => {
  assert.deepEqual(parsePortSpec('3000'), [{ mode: 'ingress', target: 3000, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec(8080), [{ mode: 'ingress', target: 8080, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8080:80'), [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:53:53/UDP'), [{ mode: 'ingress', host_ip: '127.0.0.1', target: 53, published: '53', protocol: 'udp' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::5000'), [{ mode: 'ingress', host_ip: '127.0.0.1', target: 5000, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('[::1]:6001:6001'), [{ mode: 'ingress', host_ip: '::1', target: 6001, published: '6001', protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('::1:6000:6000'), [{ mode: 'ingress', host_ip: '::1', target: 6000, published: '6000', protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ mode: 'ingress', target: 80, published: '8000-8010', protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('9090-9091:8080-8081'), [
    { mode: 'ingress', target: 8080, published: '9090', protocol: 'tcp' },
    { mode: 'ingress', target: 8081, published: '9091', protocol: 'tcp' },
  ]);
  assert.equal(parsePortSpec('3000-3005').length, 6);
  assert.deepEqual(parsePortSpec('3000-3001')[1], { mode: 'ingress', target: 3001, protocol: 'tcp' });
});

test('parsePortSpec rejects malformed ports with a reason', () => {
  assert.throws(() => parsePortSpec('80:80:80:80'), /too many ":" separators/);
  assert.throws(() => parsePortSpec('abc:80'), /host port "abc" is not a port number or range/);
  assert.throws(() => parsePortSpec('70000:80'), /host port 70000 is out of range 0-65535/);
  assert.throws(() => parsePortSpec('80:0'), /container port 0 is out of range 1-65535/);
  assert.throws(() => parsePortSpec('8000-8002:80-81'), /differ in size/);
  assert.throws(() => parsePortSpec('90-80'), /ends before it starts/);
  assert.throws(() => parsePortSpec('80/icmp'), /unknown protocol "icmp"/);
  assert.throws(() => parsePortSpec('300.1.1.1:80:80'), /host IP "300.1.1.1" is not an IP address/);
  assert.throws(() => parsePortSpec(''), /the port is empty/);
  assert.throws(() => parsePortSpec('80:'), /the container port is empty/);
});

test('parseExposeSpec accepts ports, ranges and protocols', () => {
  assert.deepEqual(parseExposeSpec('3000-3005'), { start: 3000, end: 3005, protocol: 'tcp' });
  assert.deepEqual(parseExposeSpec(53), { start: 53, end: 53, protocol: 'tcp' });
  assert.deepEqual(parseExposeSpec('53/udp'), { start: 53, end: 53, protocol: 'udp' });
  assert.throws(() => parseExposeSpec('x'), /not a port number/);
});

test('parseVolumeSpec tells binds from named and anonymous volumes', () => {
  assert.deepEqual(parseVolumeSpec('/var/lib/data'), { type: 'volume', target: '/var/lib/data' });
  assert.deepEqual(parseVolumeSpec('data:/var/lib/data'), { type: 'volume', source: 'data', target: '/var/lib/data' });
  assert.deepEqual(parseVolumeSpec('data:/d:nocopy'), { type: 'volume', source: 'data', target: '/d', volume: { nocopy: true } });
  assert.deepEqual(parseVolumeSpec('./src:/app:ro'), { type: 'bind', source: './src', target: '/app', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeSpec('~/cache:/cache:rw,z'), { type: 'bind', source: '~/cache', target: '/cache', bind: { create_host_path: true, selinux: 'z' } });
  assert.deepEqual(parseVolumeSpec('/etc:/host-etc:ro,rslave'), {
    type: 'bind', source: '/etc', target: '/host-etc', read_only: true, bind: { create_host_path: true, propagation: 'rslave' },
  });
  assert.deepEqual(parseVolumeSpec('C:\\data:/data'), { type: 'bind', source: 'C:\\data', target: '/data', bind: { create_host_path: true } });
});

test('parseVolumeSpec rejects malformed mounts with a reason', () => {
  assert.throws(() => parseVolumeSpec('data:'), /the target path is empty/);
  assert.throws(() => parseVolumeSpec('./x:rel'), /target "rel" must be an absolute path/);
  assert.throws(() => parseVolumeSpec('/a:/b:rx'), /unknown mode "rx"/);
  assert.throws(() => parseVolumeSpec('a:/b:c:d'), /too many ":" separators/);
  assert.throws(() => parseVolumeSpec(':/data'), /the source before ":" is empty/);
  assert.throws(() => parseVolumeSpec('data:/d:z'), /applies to bind mounts only/);
  assert.throws(() => parseVolumeSpec('./d:/d:nocopy'), /applies to volumes only/);
  assert.throws(() => parseVolumeSpec(''), /the volume is empty/);
});

test('parseDuration follows the Go duration syntax Compose uses', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10us'), 0.01);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('5 parsecs'), /is not a duration/);
  assert.throws(() => parseDuration('30'), /has no unit; write it like "30s"/);
  assert.throws(() => parseDuration('1d'), /is not a duration/);
  assert.throws(() => parseDuration(''), /is not a duration/);
});

test('parseByteSize uses binary units with an optional b suffix', () => {
  assert.equal(parseByteSize(1048576), 1048576);
  assert.equal(parseByteSize('100'), 100);
  assert.equal(parseByteSize('100b'), 100);
  assert.equal(parseByteSize('512m'), 512 * 1024 ** 2);
  assert.equal(parseByteSize('512mb'), 512 * 1024 ** 2);
  assert.equal(parseByteSize('512MiB'), 512 * 1024 ** 2);
  assert.equal(parseByteSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseByteSize('64 k'), 64 * 1024);
  assert.throws(() => parseByteSize('512 megs'), /is not a byte size/);
  assert.throws(() => parseByteSize('lots'), /is not a byte size/);
  assert.throws(() => parseByteSize('1bb'), /is not a byte size/);
  assert.throws(() => parseByteSize(1.5), /not a whole number/);
});
