/** How schema errors become messages: one sentence per problem, at the right place, with a hint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ValidationIssue } from '../../src/errors.js';
import { findIssues } from '../../src/validate/index.js';
import { inlineCompose } from './inline-compose.js';

function issuesOf(text: string): ValidationIssue[] {
  return findIssues(inlineCompose(text));
}

function summary(issues: ValidationIssue[]): string[] {
  return issues.map((issue) => `${issue.source?.path ?? '-'}: ${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`);
}

test('a value of the wrong type gets one message, not one per alternative form', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    ports:\n      - [80]\n    build: 42\n');
  assert.deepEqual(summary(issues), [
    'services.web.ports[0]: services.web.ports[0] must be a port string like "8080:80" or a mapping with "target", got a list',
    'services.web.build: services.web.build must be a build context path or a mapping of build options, got 42',
  ]);
});

test('a mapping that only the long form can hold reports what is wrong inside it', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        publised: 8080\n');
  assert.deepEqual(summary(issues), ['services.web.ports[0].publised: services.web.ports[0] has unknown key "publised" (did you mean "published"?)']);
});

test('unknown keys far from any allowed one list the allowed keys when there are few', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    credential_spec:\n      zzz: 1\n');
  assert.deepEqual(summary(issues), ['services.web.credential_spec.zzz: services.web.credential_spec has unknown key "zzz" (allowed keys are "config", "file", "registry")']);
});

test('unknown keys among many allowed ones suggest an extension field', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    frobnicate: true\n');
  assert.equal(issues[0].message, 'services.web has unknown key "frobnicate"');
  assert.equal(issues[0].hint, 'remove it, or start its name with "x-" to keep it as an extension field');
});

test('extension fields are allowed at the top level, in services and nested mappings', () => {
  assert.deepEqual(issuesOf('x-a: 1\nservices:\n  web:\n    image: nginx\n    x-b: 2\n    build: {context: ., x-c: 3}\n    deploy: {x-d: 4}\n'), []);
});

test('enum values get a did-you-mean hint', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    restart: alway\n    cgroup: privat\n');
  assert.deepEqual(summary(issues), [
    'services.web.restart: services.web.restart must be one of "no", "always", "on-failure", "on-failure:<max retries>" or "unless-stopped", got "alway" (did you mean "always"?)',
    'services.web.cgroup: services.web.cgroup must be one of "host", "private", got "privat" (did you mean "private"?)',
  ]);
});

test('invalid names of services, networks and volumes are reported with the allowed characters', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\nnetworks:\n  "front end": {}\nvolumes:\n  "da/ta": {}\n');
  assert.deepEqual(summary(issues), [
    'networks["front end"]: invalid network name "front end" in networks (names may contain only letters, digits, ".", "_" and "-")',
    'volumes["da/ta"]: invalid volume name "da/ta" in volumes (names may contain only letters, digits, ".", "_" and "-")',
  ]);
});

test('a service that is not a mapping is reported once, and nothing else about it', () => {
  const issues = issuesOf('services:\n  web:\n  db: nginx\n');
  assert.deepEqual(summary(issues), [
    'services.web: services.web must be a mapping of service attributes, got an empty value',
    'services.db: services.db must be a mapping of service attributes, got "nginx"',
  ]);
});

test('a depends_on entry marked required: false may name an undefined service', () => {
  assert.deepEqual(issuesOf('services:\n  web:\n    image: nginx\n    depends_on:\n      metrics: {condition: service_started, required: false}\n'), []);
});

test('the referring service is not offered as a fix for its own reference', () => {
  const issues = issuesOf('services:\n  web:\n    image: nginx\n    depends_on: [wbe]\n');
  assert.equal(issues[0].hint, 'no other services are defined');
});

test('issues come out in file order whatever check found them', () => {
  const issues = issuesOf('services:\n  a:\n    image: x\n    depends_on: [zz]\n  b:\n    imagee: x\n    restart: bad\n');
  // "b" lacks an image (its mapping starts on line 6, column 5), "imagee" is unknown (6:13).
  assert.deepEqual(issues.map((issue) => `${issue.source?.line}:${issue.source?.column}`), ['4:18', '6:5', '6:13', '7:14']);
});
