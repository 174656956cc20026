/**
 * Error classes, one per layer. The CLI prints a BerthError as message + location + hint and
 * exits with its exitCode; anything else is a bug and is printed with its stack.
 */

/** Where something was written in a compose file; `path` is the key path, e.g. `services.web.ports[0]`. */
export interface SourceRef {
  file: string;
  line: number;
  column: number;
  path: string;
}

/** Base of every error berth reports to users. Messages start lowercase with no final period. */
export class BerthError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A compose file that cannot be read or parsed: missing file, bad YAML, bad interpolation, cycles in include/extends. */
export class ComposeFileError extends BerthError {
  readonly source?: SourceRef;
  constructor(message: string, options: { source?: SourceRef; hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.source = options.source;
  }
}

/** One problem found by validation. */
export interface ValidationIssue {
  message: string;
  source?: SourceRef;
  hint?: string;
}

/** Every problem validation found in one run. */
export class ValidationError extends BerthError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super(issues.length === 1 ? issues[0].message : `${issues.length} problems in the compose project`);
    this.issues = issues;
  }
}

/** Unknown dependencies and dependency cycles. */
export class GraphError extends BerthError {
  readonly source?: SourceRef;
  constructor(message: string, options: { source?: SourceRef; hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.source = options.source;
  }
}

/** A step of applying a plan failed. */
export class ApplyError extends BerthError {
  constructor(message: string, readonly step: string, readonly serviceName?: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** The container runtime failed; names the container and the system error. */
export class RuntimeError extends BerthError {
  constructor(
    message: string,
    readonly details: { containerId?: string; serviceName?: string; errno?: number } = {},
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** A registry request failed; names the image reference and the HTTP status. */
export class RegistryError extends BerthError {
  constructor(message: string, readonly imageRef: string, readonly status?: number, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** Image store problems: unknown image, corrupt blob, hostile layer, image in use. */
export class ImageError extends BerthError {
  constructor(message: string, readonly imageRef?: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** Bad command-line usage (unknown flag values and the like). */
export class UsageError extends BerthError {}

function formatSource(source: SourceRef): string {
  return `  at ${source.file}:${source.line}:${source.column}${source.path ? ` (${source.path})` : ''}`;
}

/** Renders a BerthError as the text the CLI prints: `error: message`, location, hint, cause chain. */
export function formatError(err: BerthError): string {
  const lines: string[] = [];
  if (err instanceof ValidationError && err.issues.length > 1) {
    lines.push(`error: ${err.message}:`);
    for (const issue of err.issues) {
      lines.push(`- ${issue.message}`);
      if (issue.source) lines.push(formatSource(issue.source));
      if (issue.hint) lines.push(`  hint: ${issue.hint}`);
    }
    return lines.join('\n');
  }
  const issue = err instanceof ValidationError ? err.issues[0] : undefined;
  lines.push(`error: ${err.message}`);
  const source = issue?.source ?? (err as { source?: SourceRef }).source;
  if (source) lines.push(formatSource(source));
  let cause = err.cause;
  while (cause instanceof Error) {
    lines.push(`  caused by: ${cause.message}`);
    cause = cause.cause;
  }
  const hint = issue?.hint ?? err.hint;
  if (hint) lines.push(`  hint: ${hint}`);
  return lines.join('\n');
}
