/**
 * Loads one of berth's CommonJS bundles (dist/bundle/cli.cjs, supervisor.cjs) with a V8 code
 * cache, so a command does not parse and compile two megabytes of JavaScript on every start.
 *
 * The first run of a command (or the first after a rebuild or a Node upgrade) compiles as usual and,
 * when it exits, writes what V8 compiled meanwhile to `<bundle dir>/.cache/<key>-…`; later runs of
 * that command load the compiled code from there. One cache per command (the key), because each
 * command compiles its own functions. The cache file name carries the bundle's size and mtime and
 * the Node version and architecture, so a stale cache is never used; V8 checks it too and
 * rejects what does not fit, and then the run writes a fresh one. A cache that cannot be written
 * (a read-only install) is skipped: berth runs the same without it. BERTH_NO_CODE_CACHE=1 turns
 * it off.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { globalFlagsWithValue } from '../cli/global-options.js';

type BundleExports = Record<string, unknown>;

interface WrappedModule {
  (exports: BundleExports, require: NodeJS.Require, module: { exports: BundleExports }, filename: string, dirname: string): void;
}

/** The cache file of `bundle` for `key` (a short lowercase word: the command). */
function cachePath(bundle: string, key: string): { dir: string; file: string; prefix: string } {
  const stats = statSync(bundle);
  const stamp = `${stats.size.toString(36)}-${Math.floor(stats.mtimeMs).toString(36)}`;
  const dir = path.join(path.dirname(bundle), '.cache');
  const prefix = `${path.basename(bundle, '.cjs')}-${key}-`;
  return { dir, prefix, file: path.join(dir, `${prefix}${process.version}-${process.arch}-${stamp}.v8`) };
}

/** Writes `data` as the new cache and removes older caches of the same bundle and key. */
function storeCache(cache: { dir: string; file: string; prefix: string }, data: Buffer): void {
  try {
    mkdirSync(cache.dir, { recursive: true });
    const temp = `${cache.file}.${process.pid}.tmp`;
    writeFileSync(temp, data);
    renameSync(temp, cache.file);
    for (const name of readdirSync(cache.dir)) {
      const file = path.join(cache.dir, name);
      if (name.startsWith(cache.prefix) && file !== cache.file && !name.endsWith('.tmp')) rmSync(file, { force: true });
    }
  } catch {
    // A read-only install: run without a cache.
  }
}

/**
 * Runs the CommonJS bundle `bundle` and returns its exports, compiled from the code cache of
 * `key` when there is one. Keys are limited to short lowercase words so a stray argument never
 * names a cache file.
 */
export function loadCachedBundle(bundle: string, key: string): BundleExports {
  const require = createRequire(bundle);
  // Node versions without the main-context loader for vm scripts cannot serve import() from a
  // vm.Script: load the bundle the ordinary way there.
  const dynamicImport = (vm.constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (process.env.BERTH_NO_CODE_CACHE === '1' || dynamicImport === undefined) return require(bundle) as BundleExports;
  const cache = cachePath(bundle, /^[a-z]{1,20}$/.test(key) ? key : 'other');
  let cachedData: Buffer | undefined;
  try { cachedData = readFileSync(cache.file); } catch { cachedData = undefined; }
  const source = readFileSync(bundle, 'utf8');
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: dynamicImport as never });
  if (!cachedData || script.cachedDataRejected) {
    // Written at exit, so it holds every function this command compiled, not only the top level.
    process.once('exit', () => storeCache(cache, script.createCachedData()));
  }
  const module = { exports: {} as BundleExports };
  (script.runInThisContext() as WrappedModule)(module.exports, require, module, bundle, path.dirname(bundle));
  return module.exports;
}


/** The command word of a berth command line (`berth -p x up -d` → "up"), the cache key. */
export function commandKey(argv: readonly string[]): string {
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i];
    if (globalFlagsWithValue.has(word)) { i++; continue; }
    if (word.startsWith('-')) continue;
    return word;
  }
  return 'help';
}
