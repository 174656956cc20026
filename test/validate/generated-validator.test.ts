/** The validator berth ships is generated from the schema; it must match the schema it claims. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/paths.js';

test('src/validate/generated/compose-validator.ts is up to date with schema/compose-spec.json', async () => {
  const generator = (await import(pathToFileURL(path.join(packageRoot, 'schema', 'generate-validator.mjs')).href)) as { generateValidatorSource(): string };
  const committed = readFileSync(path.join(packageRoot, 'src', 'validate', 'generated', 'compose-validator.ts'), 'utf8');
  assert.ok(committed === generator.generateValidatorSource(), 'out of date: run "node schema/generate-validator.mjs"');
});
