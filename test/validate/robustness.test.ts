/**
 * Validation must report, never crash: any value replaced by any other shape still yields
 * issues rather than a TypeError from a check that trusted the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCompose } from '../../src/load/index.js';
import { packageRoot } from '../../src/paths.js';
import { findIssues } from '../../src/validate/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function allPaths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(value)) value.forEach((child, index) => allPaths(child, [...prefix, index], out));
  else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) allPaths(child, [...prefix, key], out);
  return out;
}

test('replacing any value of a valid project with another shape never crashes validation', async () => {
  const loaded = await loadCompose({ cwd: path.join(packageRoot, 'test', 'validate', 'valid', 'kitchen-sink'), env: {} });
  const document = loaded.document as Json;
  const paths = allPaths(document);
  const variants: Json[] = [null, 42, 'x', [], { a: 1 }, ['service:nope'], 'a:b:c:d'];
  let runs = 0;
  // Every path once, with the variants taken in turn: bounded at one run per path.
  paths.forEach((keyPath, index) => {
    const mutated = structuredClone(document) as { [key: string]: Json };
    let parent: Json = mutated;
    for (const key of keyPath.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key];
    (parent as Record<string | number, Json>)[keyPath[keyPath.length - 1]] = variants[index % variants.length];
    assert.doesNotThrow(() => findIssues({ ...loaded, document: mutated }), `path ${keyPath.join('.')}`);
    runs++;
  });
  assert.ok(runs > 300, `only ${runs} paths`);
});
