/** Test helpers for the loader: real temp project folders with inline files. */
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { loadCompose, type LoadOptions, type LoadedCompose } from '../../src/load/index.js';

/** Writes `files` (relative path → text) into a fresh temp dir removed after the test; returns the dir. */
export function writeFixture(t: TestContext, files: Record<string, string>): string {
  const dir = fs.mkdtempSync('/tmp/berth-test-load-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

/** Writes the fixture and loads it with an empty process environment unless `options.env` says otherwise. */
export async function loadFixture(t: TestContext, files: Record<string, string>, options: Partial<LoadOptions> = {}): Promise<LoadedCompose> {
  const dir = writeFixture(t, files);
  return loadCompose({ env: {}, ...options, cwd: options.cwd ? path.join(dir, options.cwd) : dir });
}

/** The services mapping of a loaded document. */
export function services(loaded: LoadedCompose): Record<string, Record<string, unknown>> {
  return loaded.document.services as Record<string, Record<string, unknown>>;
}

/** Runs `fn` and returns the error it throws (fails when it does not throw). */
export async function errorOf(fn: () => Promise<unknown>): Promise<Error & { source?: { file: string; line: number; column: number; path: string }; hint?: string }> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}
