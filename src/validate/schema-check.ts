/**
 * The JSON Schema stage: schema/compose-spec.json compiled ahead of time by ajv, and ajv's raw errors
 * turned into one clear issue per problem (ajv reports every failed branch of a oneOf; users
 * need one sentence saying what the value should have been).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ValidationIssue } from '../errors.js';
import type { SourceIndex } from '../load/types.js';
import { packageRoot } from '../paths.js';
import { describeTypes, describeValue, formatPath, interpolationNote, withNote } from './describe.js';
import { didYouMean, quoteList } from './did-you-mean.js';
import { validate as generatedValidate } from './generated/compose-validator.js';

type Schema = Record<string, unknown>;
type KeyPath = (string | number)[];

/** Where the compose JSON Schema lives (shipped in the package). */
export const composeSchemaPath = path.join(packageRoot, 'schema', 'compose-spec.json');

const validateDocument = generatedValidate as unknown as ValidateFunction;
let schemaCache: Schema | undefined;

/**
 * The schema as data, read on the first invalid document only: error messages need its words
 * (`expect`) and the branches of each `oneOf`. The validator itself is generated ahead of time
 * by schema/generate-validator.mjs, since compiling the schema with ajv at run time would cost
 * more than loading a whole project.
 */
function composeSchema(): Schema {
  schemaCache ??= JSON.parse(readFileSync(composeSchemaPath, 'utf8')) as Schema;
  return schemaCache;
}

/** Follows a local `$ref` (`#/definitions/port`) to the schema it names. */
function resolve(root: Schema, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; hops < 10 && typeof current.$ref === 'string'; hops++) {
    let target: unknown = root;
    for (const segment of (current.$ref as string).replace(/^#\//, '').split('/')) target = (target as Schema)[segment];
    current = target as Schema;
  }
  return current;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** True when a oneOf branch could hold a value of this JSON type (a branch without `type` holds anything). */
function branchAcceptsType(root: Schema, branch: Schema, value: unknown): boolean {
  const schema = resolve(root, branch);
  if (schema.type === undefined) {
    if (Array.isArray(schema.oneOf)) return (schema.oneOf as Schema[]).some((inner) => branchAcceptsType(root, inner, value));
    return true;
  }
  const types = typeof schema.type === 'string' ? [schema.type] : (schema.type as string[]);
  const actual = jsonType(value);
  return types.some((type) => type === actual || (type === 'integer' && actual === 'number' && Number.isInteger(value)));
}

/** Turns a JSON pointer into a key path, with numbers for list indexes. */
function pointerToPath(document: unknown, pointer: string): KeyPath {
  if (pointer === '') return [];
  const result: KeyPath = [];
  let current: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      result.push(index);
      current = current[index];
    } else {
      result.push(segment);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return result;
}

const collectionKinds: Record<string, string> = { services: 'service', networks: 'network', volumes: 'volume', secrets: 'secret', configs: 'config', models: 'model' };

function subject(keyPath: KeyPath): string {
  return keyPath.length === 0 ? 'the compose file' : formatPath(keyPath);
}

function expectOf(error: ErrorObject): string | undefined {
  return (error.parentSchema as Schema | undefined)?.expect as string | undefined;
}

/** Maps one ajv error that survived collapsing to an issue. */
function toIssue(error: ErrorObject, keyPath: KeyPath, sources: SourceIndex, root: Schema): ValidationIssue | undefined {
  const at = sources.lookup(keyPath);
  const what = subject(keyPath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(((error.parentSchema as Schema).properties as Schema | undefined) ?? {});
      const guess = didYouMean(key, allowed);
      const where = keyPath.length === 0 ? 'unknown top-level key' : `${what} has unknown key`;
      const hint = guess
        ? `did you mean "${guess}"?`
        : misplacedHint(key, keyPath, root)
          ?? (allowed.length > 0 && allowed.length <= 12
            ? `allowed keys are ${quoteList(allowed)}`
            : 'remove it, or start its name with "x-" to keep it as an extension field');
      return { message: `${where} "${key}"`, source: sources.lookup([...keyPath, key]) ?? at, hint };
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return { message: `${what} is missing the required key "${key}"`, source: at };
    }
    case 'type': {
      const expected = expectOf(error) ?? describeTypes(error.schema as string | string[]);
      return { message: `${what} must be ${expected}, got ${describeValue(error.data)}`, source: at };
    }
    case 'enum': {
      const values = (error.params as { allowedValues: unknown[] }).allowedValues;
      const allowed = values.map((value) => JSON.stringify(value));
      return { message: `${what} must be one of ${allowed.join(', ')}, got ${describeValue(error.data)}`, source: at, ...guessHint(error.data, values) };
    }
    case 'pattern': {
      const expected = expectOf(error) ?? `a string matching ${String(error.schema)}`;
      const examples = ((error.parentSchema as Schema).examples as unknown[] | undefined) ?? [];
      return { message: `${what} must be ${expected}, got ${describeValue(error.data)}`, source: at, ...guessHint(error.data, examples) };
    }
    case 'minimum':
    case 'maximum':
    case 'oneOf':
    case 'anyOf': {
      const expected = expectOf(error);
      if (expected) return { message: `${what} must be ${expected}, got ${describeValue(error.data)}`, source: at };
      return { message: `${what} ${error.message ?? 'is not valid'}, got ${describeValue(error.data)}`, source: at };
    }
    default:
      return { message: `${what} ${error.message ?? 'is not valid'}`, source: at };
  }
}

/**
 * A hint for a key written at the wrong depth, the usual YAML indentation slip: a service
 * attribute at the top level or inside one of the service's own mappings.
 */
function misplacedHint(key: string, keyPath: KeyPath, root: Schema): string | undefined {
  const serviceKeys = ((root.definitions as Schema).service as Schema).properties as Schema;
  if (!Object.hasOwn(serviceKeys, key)) return undefined;
  if (keyPath.length === 0) return `"${key}" is a service attribute: indent it under a service in "services"`;
  if (keyPath.length > 2 && keyPath[0] === 'services') {
    return `"${key}" is a service attribute: move it up to ${formatPath(keyPath.slice(0, 2))}`;
  }
  return undefined;
}

/** A did-you-mean hint when a string value is close to one of the allowed values. */
function guessHint(value: unknown, allowed: readonly unknown[]): { hint?: string } {
  if (typeof value !== 'string') return {};
  const guess = didYouMean(value, allowed.filter((candidate): candidate is string => typeof candidate === 'string'));
  return guess === undefined ? {} : { hint: `did you mean "${guess}"?` };
}

/** Issues for a key whose name is not allowed (`propertyNames`), e.g. a service called "my app". */
function nameIssue(error: ErrorObject, keyPath: KeyPath, sources: SourceIndex): ValidationIssue {
  const name = error.propertyName ?? '';
  const collection = keyPath[keyPath.length - 1];
  const kind = typeof collection === 'string' ? collectionKinds[collection] ?? 'key' : 'key';
  return {
    message: `invalid ${kind} name "${name}" in ${subject(keyPath)}`,
    source: sources.lookup([...keyPath, name]) ?? sources.lookup(keyPath),
    hint: 'names may contain only letters, digits, ".", "_" and "-"',
  };
}

/** Checks `document` against the compose schema; returns one issue per problem (none when valid). */
export function checkSchema(document: unknown, sources: SourceIndex): ValidationIssue[] {
  if (validateDocument(document)) return [];
  const errors = [...(validateDocument.errors ?? [])];
  const schema = composeSchema();
  const issues: ValidationIssue[] = [];
  const collapsed: string[] = [];
  const dropped = new Set<ErrorObject>();
  const inside = (pointer: string, prefix: string): boolean => pointer === prefix || pointer.startsWith(`${prefix}/`);

  // Outermost alternatives first: once a value is reported as a whole, nothing inside it is.
  const alternatives = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf');
  alternatives.sort((a, b) => a.instancePath.length - b.instancePath.length);
  for (const alternative of alternatives) {
    if (collapsed.some((prefix) => inside(alternative.instancePath, prefix))) continue;
    const data = alternative.data;
    const branches = alternative.schema as Schema[];
    const fitting = branches.filter((branch) => branchAcceptsType(schema, branch, data));
    if (fitting.length === 1 && data !== null && typeof data === 'object') {
      // A list or mapping that only one branch can hold: report what is wrong inside it instead.
      dropped.add(alternative);
      for (const error of errors) if (error.instancePath === alternative.instancePath && error.keyword === 'type') dropped.add(error);
      continue;
    }
    collapsed.push(alternative.instancePath);
    const keyPath = pointerToPath(document, alternative.instancePath);
    const issue = toIssue(alternative, keyPath, sources, schema);
    if (issue) issues.push(withVariables(issue, keyPath, sources));
  }

  for (const error of errors) {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf' || error.keyword === 'propertyNames' || dropped.has(error)) continue;
    if (collapsed.some((prefix) => inside(error.instancePath, prefix))) continue;
    const keyPath = pointerToPath(document, error.instancePath);
    const issue = error.propertyName !== undefined ? nameIssue(error, keyPath, sources) : toIssue(error, keyPath, sources, schema);
    if (issue) issues.push(withVariables(issue, keyPath, sources));
  }
  return dedupe(issues);
}

/** Adds where interpolated variables in the value came from to the hint. */
function withVariables(issue: ValidationIssue, keyPath: KeyPath, sources: SourceIndex): ValidationIssue {
  const hint = withNote(issue.hint, interpolationNote(sources, keyPath));
  return hint === undefined ? issue : { ...issue, hint };
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.message}\0${issue.source?.path ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
