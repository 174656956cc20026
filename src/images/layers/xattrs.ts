/**
 * Extended attributes through Debian's `attr` tools (setfattr/getfattr): Node has no xattr API,
 * and one `setfattr --restore` per layer sets every attribute in a single process instead of one
 * spawn per file. Overlay opaque markers depend on this, so a missing `setfattr` is an error
 * when a layer needs one.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ImageError } from '../../errors.js';

const execFileAsync = promisify(execFile);

/** One attribute to set on a path relative to the directory the batch is applied in. */
export interface XattrRecord {
  path: string;
  name: string;
  value: Buffer;
}

/** Escapes a path for the getfattr dump format (octal for control bytes, space, backslash and non-ASCII). */
function escapePath(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte <= 0x20 || byte >= 0x7f || byte === 0x5c || byte === 0x3d || byte === 0x22) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** Reverses getfattr's octal escapes. */
function unescapePath(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\' && /^[0-7]{3}$/.test(value.slice(i + 1, i + 4))) {
      bytes.push(parseInt(value.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(value[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** True when `setfattr` (Debian package `attr`) is on PATH. */
export async function haveSetfattr(): Promise<boolean> {
  try {
    await execFileAsync('setfattr', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sets every record in one `setfattr --restore` run inside `dir`, never following symlinks.
 * Throws with setfattr's own complaint when any record fails.
 */
export async function applyXattrs(dir: string, records: readonly XattrRecord[]): Promise<void> {
  if (records.length === 0) return;
  const byPath = new Map<string, XattrRecord[]>();
  for (const record of records) byPath.set(record.path, [...(byPath.get(record.path) ?? []), record]);
  let dump = '';
  for (const [file, list] of byPath) {
    dump += `# file: ${escapePath(file)}\n`;
    for (const record of list) dump += `${record.name}=0s${record.value.toString('base64')}\n`;
    dump += '\n';
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('setfattr', ['-h', '--restore=-'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 4096) stderr += chunk.toString(); });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT'
        ? new ImageError('cannot set extended attributes: "setfattr" is not installed', undefined, { hint: 'install the Debian package "attr" (apt-get install attr)' })
        : err);
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`setfattr: ${stderr.trim().split('\n')[0] || `exit status ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(dump);
  });
}

/**
 * Reads the extended attributes under `dir` matching `pattern` (a getfattr regex), recursively
 * and without following symlinks. Paths come back relative to `dir`.
 */
export async function readXattrsRecursive(dir: string, pattern = '-'): Promise<XattrRecord[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('getfattr', ['-R', '-P', '-d', '-e', 'base64', '-m', pattern, '.'], { cwd: dir, maxBuffer: 256 * 1024 * 1024 }));
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stdout?: string };
    if (failure.code === 'ENOENT') throw new ImageError('cannot read extended attributes: "getfattr" is not installed', undefined, { hint: 'install the Debian package "attr" (apt-get install attr)' });
    // getfattr exits non-zero for files it cannot read (e.g. dangling entries) but still dumps the rest.
    stdout = failure.stdout ?? '';
  }
  const records: XattrRecord[] = [];
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = unescapePath(line.slice(8)).replace(/^\.\/?/, '') || '.';
    else if (current !== undefined && line.includes('=')) {
      const equals = line.indexOf('=');
      const name = line.slice(0, equals);
      const raw = line.slice(equals + 1);
      let value: Buffer;
      if (raw.startsWith('0s')) value = Buffer.from(raw.slice(2), 'base64');
      else if (raw.startsWith('0x')) value = Buffer.from(raw.slice(2), 'hex');
      else value = Buffer.from(raw.replace(/^"|"$/g, ''), 'utf8');
      records.push({ path: current, name, value });
    }
  }
  return records;
}
