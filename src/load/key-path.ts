/** Key paths of values in a compose document, as arrays and as the text errors show. */

/** A key path: mapping keys and sequence indexes from the document root. */
export type KeyPath = readonly (string | number)[];

/** Renders a key path as `services.web.ports[0]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}
