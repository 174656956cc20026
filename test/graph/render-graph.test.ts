/** renderGraph: tree, dot and mermaid output are stable text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, renderGraph } from '../../src/graph/index.js';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from '../model/loaded.js';

const project = normalize(loadedFrom({ services: {
  web: { image: 'x', depends_on: { api: { condition: 'service_started' }, cache: { condition: 'service_started', required: false } } },
  api: { image: 'x', depends_on: { db: { condition: 'service_healthy', restart: true } } },
  worker: { image: 'x', depends_on: ['db'] },
  db: { image: 'x' },
  cache: { image: 'x' },
} }));
const graph = buildGraph(project);

test('tree: one tree per service nothing depends on, conditions as labels, shared subtrees not repeated', () => {
  assert.equal(renderGraph(project, graph, 'tree'), [
    'web',
    '├── api (service_started)',
    '│   └── db (service_healthy, restart)',
    '└── cache (service_started, optional)',
    'worker',
    '└── db (service_started)',
    '',
  ].join('\n'));
});

test('dot and mermaid', () => {
  assert.equal(renderGraph(project, graph, 'dot'), [
    'digraph "demo" {', '  rankdir=LR;', '  node [shape=box];',
    '  "api";', '  "cache";', '  "db";', '  "web";', '  "worker";',
    '  "api" -> "db" [label="service_healthy"];',
    '  "web" -> "api" [label="service_started"];',
    '  "web" -> "cache" [label="service_started", style=dashed];',
    '  "worker" -> "db" [label="service_started"];',
    '}', '',
  ].join('\n'));
  assert.equal(renderGraph(project, graph, 'mermaid'), [
    'graph LR', '  s0["api"]', '  s1["cache"]', '  s2["db"]', '  s3["web"]', '  s4["worker"]',
    '  s0 -->|service_healthy| s2', '  s3 -->|service_started| s0', '  s3 -.->|service_started| s1', '  s4 -->|service_started| s2', '',
  ].join('\n'));
});
