/**
 * Interpolation of compose file values (never keys, as the Compose Specification says),
 * then the type casts Compose applies to interpolated values of typed fields, so that
 * `read_only: ${RO:-false}` becomes the boolean false the schema expects.
 */
import { ComposeFileError } from '../errors.js';
import { interpolateString, TemplateError, type VariableLookup } from './interpolate.js';
import { formatPath, type KeyPath } from './key-path.js';
import type { ScalarHook } from './parse-yaml.js';

type Cast = 'bool' | 'int' | 'float';

// `*` matches any mapping key, `#` any sequence index.
const CASTS: [string, Cast][] = [
  ['services.*.cpu_count', 'int'], ['services.*.cpu_percent', 'float'], ['services.*.cpu_period', 'int'],
  ['services.*.cpu_quota', 'int'], ['services.*.cpu_rt_period', 'int'], ['services.*.cpu_rt_runtime', 'int'],
  ['services.*.cpus', 'float'], ['services.*.cpu_shares', 'int'], ['services.*.init', 'bool'],
  ['services.*.deploy.replicas', 'int'], ['services.*.deploy.restart_policy.max_attempts', 'int'],
  ['services.*.healthcheck.retries', 'int'], ['services.*.healthcheck.disable', 'bool'],
  ['services.*.oom_kill_disable', 'bool'], ['services.*.oom_score_adj', 'int'], ['services.*.pids_limit', 'int'],
  ['services.*.ports.#.target', 'int'], ['services.*.privileged', 'bool'], ['services.*.read_only', 'bool'],
  ['services.*.scale', 'int'], ['services.*.secrets.#.mode', 'int'], ['services.*.configs.#.mode', 'int'],
  ['services.*.stdin_open', 'bool'], ['services.*.tty', 'bool'], ['services.*.ulimits.*', 'int'],
  ['services.*.ulimits.*.hard', 'int'], ['services.*.ulimits.*.soft', 'int'],
  ['services.*.volumes.#.read_only', 'bool'], ['services.*.volumes.#.volume.nocopy', 'bool'],
  ['services.*.volumes.#.bind.create_host_path', 'bool'],
  ['networks.*.external', 'bool'], ['networks.*.internal', 'bool'], ['networks.*.attachable', 'bool'],
  ['networks.*.enable_ipv6', 'bool'], ['volumes.*.external', 'bool'], ['secrets.*.external', 'bool'],
  ['configs.*.external', 'bool'],
];
// Indexed by last key (`#` for an index) so each lookup tries only a pattern or two.
const CAST_PATTERNS = new Map<string, { parts: string[]; cast: Cast }[]>();
for (const [pattern, cast] of CASTS) {
  const parts = pattern.split('.');
  const last = parts[parts.length - 1];
  CAST_PATTERNS.set(last, [...(CAST_PATTERNS.get(last) ?? []), { parts, cast }]);
}

function castFor(path: KeyPath): Cast | undefined {
  const last = path[path.length - 1];
  const candidates = [...(CAST_PATTERNS.get(typeof last === 'number' ? '#' : last) ?? []), ...(CAST_PATTERNS.get('*') ?? [])];
  for (const { parts, cast } of candidates) {
    if (parts.length !== path.length) continue;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const key = path[i];
      ok = parts[i] === '#' ? typeof key === 'number' : typeof key === 'string' && (parts[i] === '*' || parts[i] === key);
    }
    if (ok) return cast;
  }
  return undefined;
}

function applyCast(value: string, cast: Cast): unknown {
  if (cast === 'bool') {
    const lower = value.toLowerCase();
    if (['true', 'yes', 'y', 'on', '1'].includes(lower)) return true;
    if (['false', 'no', 'n', 'off', '0'].includes(lower)) return false;
    return value;
  }
  const number = Number(value);
  if (value.trim() === '' || Number.isNaN(number)) return value;
  return cast === 'int' && !Number.isInteger(number) ? value : number;
}

/** The scalar hook that interpolates each string value of one file, with errors located there. */
export function interpolationHook(lookup: VariableLookup): ScalarHook {
  return (text, path, place, shift) => {
    if (!text.includes('$')) return { value: text, place };
    let result;
    try {
      result = interpolateString(text, lookup);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const where = formatPath(path);
      throw new ComposeFileError(`${error.message} (in "${where}")`, {
        source: { file: place.file, line: place.line, column: place.column + (shift === undefined ? 0 : shift + error.offset), path: where },
        hint: error.kind === 'required'
          ? `set "${error.variableName}" in the environment or in the .env file`
          : 'write "$$" for a literal "$"; variables look like $NAME or ${NAME}',
      });
    }
    if (result.variables.length === 0) return { value: result.value, place };
    const cast = castFor(path);
    return { value: cast ? applyCast(result.value, cast) : result.value, place: { ...place, variables: result.variables } };
  };
}
