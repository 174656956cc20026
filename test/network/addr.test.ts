/** IP checks agree with node:net on which texts are IPv4/IPv6 addresses, and addresses parse right. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { ipVersion } from '../../src/ip.js';
import { formatAddress, parseAddress, parseCidr } from '../../src/network/addr.js';

const samples = [
  '0.0.0.0', '127.0.0.1', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', '', ' 1.2.3.4',
  '::', '::1', '1::', 'fe80::1', '2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:ff00:0042:8329', '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1', '1:', '1::2:', 'g::1', '12345::1', '::ffff:1.2.3.4',
  '::ffff:1.2.3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', 'fd00:abcd::/64', '::1.2.3.4',
  'fe80::1%eth0', 'fe80::1%', 'fe80::1%e/0', '1.2.3.4%eth0',
];

test('ipVersion and parseAddress accept exactly the addresses node:net accepts', () => {
  for (const text of samples) {
    assert.equal(ipVersion(text), isIP(text), text);
    const expected = isIPv4(text) ? 4 : isIPv6(text) ? 6 : undefined;
    let family: number | undefined;
    try { family = parseAddress(text).family; } catch { family = undefined; }
    assert.equal(family, expected, text);
  }
});

test('addresses and prefixes parse to the right numbers', () => {
  assert.equal(parseAddress('10.1.2.3').value, 0x0a010203n);
  assert.equal(formatAddress(6, parseAddress('2001:db8::1').value), '2001:db8::1');
  assert.equal(parseAddress('::ffff:1.2.3.4').value, 0xffff01020304n);
  assert.equal(parseAddress('fe80::1%eth0').value, parseAddress('fe80::1').value, 'the zone is not part of the address');
  assert.deepEqual(parseCidr('172.20.5.9/16'), { family: 4, base: 0xac140000n, bits: 16 });
  assert.throws(() => parseCidr('172.20.0.0/33'), /invalid prefix length/);
});
