/** Splits a command string into words the way a POSIX shell would, without expanding anything. */
import { ComposeFileError } from '../errors.js';

/**
 * Splits `text` into words: whitespace separates, single quotes are literal, double quotes
 * allow `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next
 * character. Compose splits string `command`/`entrypoint` values this way.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ComposeFileError(`unterminated single quote in ${JSON.stringify(text)}`, { hint: "close the quote or escape it as \\'" });
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') { closed = true; i++; break; }
        if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) {
          if (text[i + 1] !== '\n') word += text[i + 1];
          i += 2;
          continue;
        }
        word += c;
        i++;
      }
      if (!closed) throw new ComposeFileError(`unterminated double quote in ${JSON.stringify(text)}`, { hint: 'close the quote or escape it as \\"' });
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < text.length) {
        if (text[i + 1] !== '\n') { word += text[i + 1]; inWord = true; }
        i += 2;
      } else {
        i++;
      }
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
