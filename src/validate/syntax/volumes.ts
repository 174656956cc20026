/**
 * The short syntax of service `volumes` (`[SOURCE:]TARGET[:MODE]`), parsed into the long syntax.
 * Validation uses it to report bad strings; the normalizer reuses it to expand them.
 */

/** One service mount in the Compose long syntax, the shape `berth config` prints. */
export interface VolumeSpec {
  type: 'bind' | 'volume';
  /** Host path (bind) or volume name (named volume); absent for an anonymous volume. */
  source?: string;
  target: string;
  read_only?: true;
  consistency?: string;
  bind?: { create_host_path: true; propagation?: string; selinux?: 'z' | 'Z' };
  volume?: { nocopy: true };
}

const propagations = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const consistencies = new Set(['consistent', 'cached', 'delegated']);

/** True when a short-syntax source names a host path rather than a volume. */
export function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(source) || source.startsWith('\\\\');
}

/**
 * Parses one short-syntax mount (`"data:/var/lib/data:ro"`, `"./src:/app"`, `"/cache"`) into the
 * long syntax. Throws an Error whose message explains the problem (empty or relative target, bad mode).
 */
export function parseVolumeSpec(spec: string): VolumeSpec {
  const text = spec.trim();
  if (text === '') throw new Error('the volume is empty');
  // A Windows drive letter ("C:\data") holds a colon that is no separator. "a:/x" stays a
  // volume named "a": on Linux a one-letter volume name is likelier than a drive.
  const drive = /^[a-zA-Z]:\\/.test(text) ? text.slice(0, 2) : '';
  const parts = text.slice(drive.length).split(':');
  parts[0] = drive + parts[0];
  if (parts.length > 3) throw new Error('too many ":" separators; use "SOURCE:TARGET[:MODE]"');
  let source: string | undefined;
  let target: string;
  let modeText: string | undefined;
  if (parts.length === 1) {
    target = parts[0];
  } else {
    [source, target, modeText] = parts;
    if (source === '') throw new Error('the source before ":" is empty');
  }
  if (target === '') throw new Error('the target path is empty');
  if (!target.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(target)) {
    throw new Error(`target "${target}" must be an absolute path in the container`);
  }
  const type = source !== undefined && isHostPath(source) ? 'bind' : 'volume';
  const result: VolumeSpec = { type, ...(source === undefined ? {} : { source }), target };
  if (type === 'bind') result.bind = { create_host_path: true };
  if (modeText !== undefined) {
    if (modeText === '') throw new Error('the mode after the last ":" is empty');
    for (const mode of modeText.split(',')) {
      if (mode === 'ro') result.read_only = true;
      else if (mode === 'rw') continue;
      else if (mode === 'z' || mode === 'Z') {
        if (type !== 'bind') throw new Error(`mode "${mode}" applies to bind mounts only`);
        result.bind = { ...result.bind!, selinux: mode };
      } else if (propagations.has(mode)) {
        if (type !== 'bind') throw new Error(`mode "${mode}" applies to bind mounts only`);
        result.bind = { ...result.bind!, propagation: mode };
      } else if (mode === 'nocopy') {
        if (type !== 'volume') throw new Error('mode "nocopy" applies to volumes only');
        result.volume = { nocopy: true };
      } else if (consistencies.has(mode)) result.consistency = mode;
      else throw new Error(`unknown mode "${mode}"; use "ro" or "rw", optionally with "z", "Z", "nocopy" or a propagation such as "rshared"`);
    }
  }
  return result;
}
