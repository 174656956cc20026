/** Valid documents must pass: a schema that rejects real compose files is worse than none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCompose } from '../../src/load/index.js';
import { packageRoot } from '../../src/paths.js';
import { ValidationError, formatError } from '../../src/errors.js';
import { findIssues } from '../../src/validate/index.js';
import { inlineCompose } from './inline-compose.js';

const validDir = path.join(packageRoot, 'test', 'validate', 'valid');

function assertValid(text: string): void {
  const issues = findIssues(inlineCompose(text));
  assert.equal(issues.length, 0, issues.length > 0 ? formatError(new ValidationError(issues)) : '');
}

test('every attribute of the specification in its accepted forms passes', async () => {
  // Through the real loader: include, extends, merge keys and interpolation included.
  const loaded = await loadCompose({ cwd: path.join(validDir, 'kitchen-sink'), env: {} });
  const issues = findIssues(loaded);
  assert.equal(issues.length, 0, issues.length > 0 ? formatError(new ValidationError(issues)) : '');
  assert.ok(Object.keys(loaded.document.services as object).length >= 8);
});

test('interpolated values that stay strings are accepted where Compose casts them', () => {
  assertValid(`
services:
  web:
    image: nginx
    cpus: "0.5"
    mem_limit: "512m"
    privileged: "true"
    init: "yes"
    scale: "2"
    oom_score_adj: "-100"
    pids_limit: "100"
    ports: ["8080:80", 9000]
    healthcheck: {retries: "3", interval: "10s"}
    deploy: {replicas: "2", resources: {limits: {cpus: "1", memory: "1g", pids: "10"}}}
    ulimits: {nofile: {soft: "1024", hard: "2048"}, nproc: "512"}
`);
});

test('uninterpolated variables (--no-interpolate) are not judged by their syntax', () => {
  assertValid(`
services:
  web:
    image: \${IMAGE}
    ports: ["\${PORT}:80"]
    volumes: ["\${DATA_DIR}:/data"]
    mem_limit: \${MEM}
    privileged: \${PRIV}
    healthcheck: {interval: "\${INTERVAL}"}
    restart: \${RESTART}
`);
});

test('a minimal file with only an image passes', () => {
  assertValid('services:\n  web:\n    image: nginx\n');
});
