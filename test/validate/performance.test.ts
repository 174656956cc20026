/**
 * Validation must stay a small part of loading a project: the whole pipeline (load, validate,
 * normalize) has to handle 1000 services in well under 300 ms. This file runs in its own process,
 * so the measurement includes the cold start of the generated validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedCompose } from '../../src/load/types.js';
import { findIssues } from '../../src/validate/index.js';
import { formatPath } from '../../src/validate/describe.js';

function bigProject(serviceCount: number): LoadedCompose {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < serviceCount; i++) {
    services[`s${i}`] = {
      image: `nginx:1.${i}`,
      ports: [`${8000 + i}:80`, `127.0.0.1:${20000 + i}:81/udp`],
      environment: { A: '1', B: 'x' },
      volumes: ['data:/data', '/project/src:/app:ro'],
      depends_on: { [`s${(i + 1) % serviceCount}`]: { condition: 'service_started', required: true } },
      healthcheck: { test: ['CMD', 'true'], interval: '5s', retries: 3 },
      deploy: { resources: { limits: { cpus: '0.5', memory: '512m' } } },
      networks: ['front'],
    };
  }
  return {
    projectName: 'big',
    projectDirectory: '/project',
    configFiles: ['/project/compose.yaml'],
    envFiles: [],
    environment: {},
    profiles: [],
    document: { services, volumes: { data: {} }, networks: { front: {} } },
    sources: { lookup: (path) => ({ file: 'compose.yaml', line: 1, column: 1, path: formatPath(path) }), origin: () => undefined },
    warnings: [],
  };
}

test('validating 1000 services takes a small part of the 300 ms budget', (t) => {
  const project = bigProject(1000);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const issues = findIssues(project);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  t.diagnostic(`1000 services: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (cold)`);
  assert.deepEqual(issues, []);
  // CPU time, not wall time: other test processes share the two cores. The bound is loose on
  // purpose (measured 78-135 ms on 2 busy cores); it catches quadratic work or run-time compiling
  // of the schema, which alone costs 400-700 ms.
  assert.ok(cpuMs < 400, `validation took ${cpuMs.toFixed(0)} ms of CPU`);
});
