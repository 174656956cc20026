/** healthcheck: the string test becomes CMD-SHELL; durations stay as written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

test('string test → ["CMD-SHELL", text], list kept, durations unchanged', () => {
  const project = normalize(loadedFrom({ services: {
    a: { image: 'x', healthcheck: { test: 'curl -f http://localhost', interval: '1m30s', retries: 3 } },
    b: { image: 'x', healthcheck: { test: ['CMD', 'true'] } },
  } }));
  assert.deepEqual(project.services.get('a')!.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: '1m30s', retries: 3 });
  assert.deepEqual(project.services.get('b')!.healthcheck, { test: ['CMD', 'true'] });
});
