/** The network layer's error: what failed, on which network/container, and how to fix it. */
import { BerthError } from '../errors.js';

/** A network could not be checked, created, joined or removed; `network` names it when known. */
export class NetworkError extends BerthError {
  readonly network?: string;
  constructor(message: string, options: { network?: string; hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.network = options.network;
  }
}
