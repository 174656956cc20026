/** Shared plumbing of the checks that run after the schema: reading the document, recording issues. */
import type { SourceRef, ValidationIssue } from '../errors.js';
import type { SourceIndex } from '../load/types.js';
import { interpolationNote, withNote } from './describe.js';
import { parseVolumeSpec, type VolumeSpec } from './syntax/index.js';

/** A key path from the document root. */
export type KeyPath = readonly (string | number)[];

/** A plain mapping from the document. */
export type Mapping = Record<string, unknown>;

/** True for a YAML mapping (not a list, not null). */
export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What every check gets: the document, positions, and where to put issues. */
export class CheckContext {
  readonly issues: ValidationIssue[] = [];
  private serviceList: [string, Mapping][] | undefined;
  private readonly volumeSpecs = new Map<string, VolumeSpec | Error>();
  constructor(
    readonly document: Mapping,
    private readonly sources: SourceIndex,
  ) {}

  /** Position of the value at `path` (nearest ancestor when not recorded). */
  at(path: KeyPath): SourceRef | undefined {
    return this.sources.lookup(path);
  }

  /** Records one issue located at `path`. */
  report(path: KeyPath, message: string, hint?: string): void {
    const fullHint = withNote(hint, interpolationNote(this.sources, path));
    this.issues.push({ message, source: this.at(path), ...(fullHint === undefined ? {} : { hint: fullHint }) });
  }

  /** The top-level section `key` as a mapping (empty when absent or not a mapping). */
  section(key: string): Mapping {
    const value = this.document[key];
    return isMapping(value) ? value : {};
  }

  /** Each service name with its definition, skipping definitions the schema already rejected. */
  services(): readonly [string, Mapping][] {
    this.serviceList ??= Object.entries(this.section('services')).filter((entry): entry is [string, Mapping] => isMapping(entry[1]));
    return this.serviceList;
  }

  /** parseVolumeSpec, remembered: several checks look at the same mount strings. */
  volumeSpec(text: string): VolumeSpec | Error {
    let spec = this.volumeSpecs.get(text);
    if (spec === undefined) {
      try {
        spec = parseVolumeSpec(text);
      } catch (error) {
        spec = error as Error;
      }
      this.volumeSpecs.set(text, spec);
    }
    return spec;
  }
}
