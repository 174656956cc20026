/** The error a failed build reports: which Dockerfile line, what the step printed, how to fix it. */
import { BerthError } from '../errors.js';

/** A build failed: a Dockerfile error, a missing file in the context, or a RUN step that exited non-zero. */
export class BuildError extends BerthError {
  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number; output?: string } = {}) {
    super(message, options);
    this.output = options.output;
  }

  /** Output of the failed step (its last lines), when a RUN step failed. */
  readonly output?: string;
}
