/**
 * Atomic file writes for berth's state files: write a temp file next to the target, then rename,
 * so a reader (another berth command, the supervisor, the DNS server) sees the old or the new
 * content, never a mix. The temp name is unique per call, so concurrent writers never share one.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Writes `text` to `file` atomically, creating its directory. */
export function writeTextAtomic(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
}

/** Writes `value` as indented JSON (with a final newline) to `file` atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeTextAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
