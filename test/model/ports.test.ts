/** ports: short syntax, ranges, protocols, host IPs and long syntax normalize as compose prints them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const portsOf = (ports: unknown[]): unknown => normalize(loadedFrom({ services: { web: { image: 'nginx', ports } } })).services.get('web')!.ports;

test('short syntax becomes long form with published as a string', () => {
  assert.deepEqual(portsOf(['8080:80', 3000, '127.0.0.1:5353:53/udp']), [
    { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
    { mode: 'ingress', target: 3000, protocol: 'tcp' },
    { mode: 'ingress', host_ip: '127.0.0.1', target: 53, published: '5353', protocol: 'udp' },
  ]);
});

test('ranges expand into one entry per port; a host range for one port stays a range', () => {
  assert.deepEqual(portsOf(['9090-9091:8080-8081', '4000-4001', '7000-7005:80']), [
    { mode: 'ingress', target: 8080, published: '9090', protocol: 'tcp' },
    { mode: 'ingress', target: 8081, published: '9091', protocol: 'tcp' },
    { mode: 'ingress', target: 4000, protocol: 'tcp' },
    { mode: 'ingress', target: 4001, protocol: 'tcp' },
    { mode: 'ingress', target: 80, published: '7000-7005', protocol: 'tcp' },
  ]);
});

test('long syntax gets mode and protocol defaults and a string published port', () => {
  assert.deepEqual(portsOf([{ target: 80, published: 8080 }, { target: 53, protocol: 'udp', mode: 'host', host_ip: '::1' }]), [
    { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
    { mode: 'host', host_ip: '::1', target: 53, protocol: 'udp' },
  ]);
});

test('a malformed port names the service and the entry', () => {
  assert.throws(() => portsOf(['80:abc']), (error: Error & { source?: { path: string } }) => {
    assert.match(error.message, /invalid port "80:abc"/);
    assert.equal(error.source?.path, 'services.web.ports.0');
    return true;
  });
});
