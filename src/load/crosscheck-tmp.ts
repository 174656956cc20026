// TEMPORARY: cross-checks the fast YAML path against the full one (removed before the end).
import fs from 'node:fs';
import { metaOf } from './source-meta.js';
export function crosscheck(text: string, fast: unknown, full: unknown): void {
  const problems: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (problems.length > 5) return;
    if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) { problems.push(`${path}: type ${JSON.stringify(a)} vs ${JSON.stringify(b)}`); return; }
    if (typeof a !== 'object' || a === null) { if (!Object.is(a, b)) problems.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`); return; }
    const ka = Object.keys(a), kb = Object.keys(b as object);
    if (ka.join('\0') !== kb.join('\0')) { problems.push(`${path}: keys ${ka} vs ${kb}`); return; }
    const ma = metaOf(a), mb = metaOf(b as object);
    for (const k of ka) {
      const key = Array.isArray(a) ? Number(k) : k;
      const pa = ma.places.get(key), pb = mb.places.get(key);
      if (JSON.stringify(pa) !== JSON.stringify(pb)) problems.push(`${path}.${k}: place ${JSON.stringify(pa)} vs ${JSON.stringify(pb)}`);
      if (ma.tags?.get(key) !== mb.tags?.get(key)) problems.push(`${path}.${k}: tag`);
      walk((a as any)[k], (b as any)[k], `${path}.${k}`);
    }
  };
  walk(fast, full, '');
  if (problems.length) fs.appendFileSync('/tmp/perfw/mismatch.log', `=== ${problems.join('\n')}\n--- text:\n${text.slice(0, 3000)}\n`);
  else if (fast === 'FALLBACK') { fs.mkdirSync('/tmp/perfw/fb', { recursive: true }); fs.writeFileSync('/tmp/perfw/fb/' + Math.random().toString(36).slice(2), text); } else fs.appendFileSync('/tmp/perfw/match.log', 'ok\n');
}
