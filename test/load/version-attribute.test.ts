// The obsolete top-level `version` is dropped with a warning, as Compose does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture } from './fixture.js';

test('version is removed and warned about', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'version: "3.8"\nservices:\n  web:\n    image: a\n' });
  assert.equal(loaded.document.version, undefined);
  assert.deepEqual(loaded.warnings, ['the attribute "version" is obsolete, it will be ignored; remove it to avoid confusion']);
});
