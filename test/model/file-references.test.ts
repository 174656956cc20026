/** secrets/configs: service references in long form, top-level entries named and with absolute files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

test('short references become {source}; long ones are kept', () => {
  const project = normalize(loadedFrom({
    services: { app: { image: 'x', secrets: ['pw', { source: 'key', target: 'k', mode: 0o400 }], configs: ['conf'] } },
    secrets: { pw: { file: './pw.txt' }, key: { environment: 'KEY' } },
    configs: { conf: { content: 'a=1' }, ext: { external: true } },
  }));
  const app = project.services.get('app')!;
  assert.deepEqual(app.secrets, [{ source: 'pw' }, { source: 'key', target: 'k', mode: 0o400 }]);
  assert.deepEqual(app.configs, [{ source: 'conf' }]);
  assert.equal(project.secrets.get('pw')!.file, '/srv/demo/pw.txt');
  assert.equal(project.secrets.get('pw')!.name, 'demo_pw');
  assert.equal(project.configs.get('ext')!.name, 'ext');
});
