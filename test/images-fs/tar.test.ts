/** The tar reader and writer: round trips through pax, GNU long names and base-256, and interop with GNU tar. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, symlinkSync, linkSync } from 'node:fs';
import path from 'node:path';
import { ByteReader, readTar, directoryEntries, type TarStreamEntry } from '../../src/images/layers/index.js';
import { encodeHeader } from '../../src/images/layers/tar-header.js';
import { rawTar, tarBuffer, tempDir } from './fixtures.js';

async function readAll(data: Buffer): Promise<Array<Omit<TarStreamEntry, 'body'> & { data: string }>> {
  const out: Array<Omit<TarStreamEntry, 'body'> & { data: string }> = [];
  for await (const entry of readTar(new ByteReader([data]))) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.body()) parts.push(chunk);
    const { body: _body, ...rest } = entry;
    out.push({ ...rest, data: Buffer.concat(parts).toString('utf8') });
  }
  return out;
}

const longName = `${'deep/'.repeat(40)}file-with-a-long-name.txt`;
const longLink = `../${'x'.repeat(150)}`;

test('writer and reader round-trip pax long names, xattrs, hard links and big ids', async () => {
  const data = await tarBuffer([
    { path: 'dir', type: 'directory', mode: 0o1777, mtime: 1_700_000_000 },
    { path: longName, type: 'file', mode: 0o4755, uid: 3_000_000, gid: 42, mtime: 1_700_000_000.5, body: 'hello', xattrs: new Map([['user.note', Buffer.from([0, 1, 2, 255])], ['security.capability', Buffer.from('caps')]]) },
    { path: 'hard', type: 'link', linkname: longName },
    { path: 'sym', type: 'symlink', linkname: longLink },
    { path: 'ünïcode/名前', type: 'file', body: 'utf8' },
    { path: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
  ]);
  const entries = await readAll(data);
  assert.deepEqual(entries.map((e) => [e.path, e.type]), [
    ['dir/', 'directory'], [longName, 'file'], ['hard', 'link'], ['sym', 'symlink'], ['ünïcode/名前', 'file'], ['dev/null', 'char'],
  ]);
  assert.equal(entries[0].mode, 0o1777);
  assert.equal(entries[1].mode, 0o4755);
  assert.equal(entries[1].uid, 3_000_000);
  assert.equal(entries[1].gid, 42);
  assert.equal(entries[1].mtime, 1_700_000_000.5);
  assert.equal(entries[1].data, 'hello');
  assert.deepEqual(entries[1].xattrs.get('user.note'), Buffer.from([0, 1, 2, 255]));
  assert.equal(entries[1].xattrs.get('security.capability')?.toString(), 'caps');
  assert.equal(entries[2].linkname, longName);
  assert.equal(entries[3].linkname, longLink);
  assert.equal(entries[5].devmajor, 1);
  assert.equal(entries[5].devminor, 3);
});

test('writer output is deterministic and GNU tar reads it', async (t) => {
  const dir = tempDir(t);
  const entries = () => [
    { path: 'a', type: 'directory' as const, mtime: 1 },
    { path: `a/${'n'.repeat(120)}`, type: 'file' as const, body: 'x', mtime: 1, uid: 1000, gid: 1000 },
    { path: 'a/link', type: 'symlink' as const, linkname: longLink, mtime: 1 },
  ];
  const first = await tarBuffer(entries());
  assert.deepEqual(await tarBuffer(entries()), first);
  writeFileSync(path.join(dir, 'out.tar'), first);
  const listing = execFileSync('tar', ['-tvf', path.join(dir, 'out.tar'), '--numeric-owner'], { encoding: 'utf8' });
  assert.match(listing, new RegExp(`1000/1000 +1 1970-01-01 00:00 a/${'n'.repeat(120)}`));
  assert.match(listing, new RegExp(`a/link -> \\.\\./x{150}`));
});

test('reader understands GNU tar archives with long names (L/K), pax xattrs and hard links', async (t) => {
  const dir = tempDir(t);
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'x'.repeat(120)), { recursive: true });
  writeFileSync(path.join(src, 'x'.repeat(120), 'f'), 'body');
  linkSync(path.join(src, 'x'.repeat(120), 'f'), path.join(src, 'hard'));
  symlinkSync('y'.repeat(130), path.join(src, 'sym'));
  writeFileSync(path.join(src, 'attr'), 'a');
  execFileSync('setfattr', ['-n', 'user.color', '-v', 'blue', path.join(src, 'attr')]);
  for (const format of ['gnu', 'pax']) {
    const archive = path.join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '--xattrs', '--xattrs-include=*', '--sort=name', '-C', src, '-cf', archive, '.']);
    const entries = await readAll(readFileSync(archive));
    const byPath = new Map(entries.map((e) => [e.path.replace(/^\.\//, '').replace(/\/$/, ''), e]));
    // --sort=name puts ./hard first, so it carries the data and the long-named path is the link.
    assert.equal(byPath.get('hard')?.data, 'body', format);
    assert.equal(byPath.get(`${'x'.repeat(120)}/f`)?.type, 'link', format);
    assert.equal(byPath.get(`${'x'.repeat(120)}/f`)?.linkname, './hard', format);
    assert.equal(byPath.get('sym')?.linkname, 'y'.repeat(130), format);
    if (format === 'pax') assert.equal(byPath.get('attr')?.xattrs.get('user.color')?.toString(), 'blue');
  }
});

test('reader decodes base-256 sizes and applies global pax headers', async () => {
  const header = encodeHeader({ name: 'big', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, typeflag: '0', linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 });
  // base-256 size of 3 bytes: 0x80 marker then big-endian value in the 12-byte field.
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header[135] = 3;
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  const body = Buffer.alloc(512);
  body.write('abc');
  const archive = Buffer.concat([header, body, Buffer.alloc(1024)]);
  const [entry] = await readAll(archive);
  assert.equal(entry.size, 3);
  assert.equal(entry.data, 'abc');

  const global = rawTar([{ name: 'g', typeflag: 'g', body: '18 uname=everyone\n' }, { name: 'f', body: 'x' }]);
  const [file] = await readAll(global);
  assert.equal(file.path, 'f');
  assert.equal(file.uname, 'everyone');
});

test('directoryEntries archives a tree with hard links once and symlinks unresolved', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
  writeFileSync(path.join(dir, 'tree/sub/a'), 'A');
  linkSync(path.join(dir, 'tree/sub/a'), path.join(dir, 'tree/b'));
  symlinkSync('/etc/passwd', path.join(dir, 'tree/c'));
  const walked = [];
  for await (const entry of directoryEntries(path.join(dir, 'tree'), { mtime: 0 })) walked.push(entry);
  const data = await tarBuffer(walked);
  const entries = await readAll(data);
  assert.deepEqual(entries.map((e) => `${e.type} ${e.path}${e.linkname ? ` -> ${e.linkname}` : ''}`), [
    'file b', 'symlink c -> /etc/passwd', 'directory sub/', 'link sub/a -> b',
  ]);
});
