/**
 * A fast reader for the block-style YAML that compose files are written in. The `yaml`
 * package's parser costs most of a large project's load time (generator-based token stream,
 * a full Document model), so the common shape is read here in one pass over the text into
 * light nodes that YamlConverter walks like `yaml` nodes. Anything outside that shape (block
 * scalars other than `|`, multi-line scalars, escapes, directives, several documents, complex keys, any
 * error) returns undefined, and the caller parses with `yaml` instead; so behaviour and error
 * messages stay those of the `yaml` path, only the common case gets faster.
 */

/** Node kinds of the light tree (see `FastNode`). */
export const FAST_MAP = 1;
export const FAST_SEQ = 2;
export const FAST_SCALAR = 3;
export const FAST_ALIAS = 4;

/** One node of the light tree; field names match the `yaml` nodes YamlConverter reads. */
export interface FastNode {
  kind: 1 | 2 | 3 | 4;
  /** Offset where the node starts (what `range[0]` is for `yaml` nodes). */
  start: number;
  anchor?: string;
  tag?: string;
  /** Mapping pairs or sequence items. */
  items?: (FastNode | FastPair)[];
  /** Resolved scalar value. */
  value?: unknown;
  /** Scalar text as written (plain scalars), or the alias name. */
  source?: string;
  type?: 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE' | 'BLOCK_LITERAL';
}

/** One mapping entry of the light tree. */
export interface FastPair {
  key: FastNode;
  value: FastNode;
}

/** Thrown inside the reader when the text leaves the supported shape. */
class Unsupported {}
const UNSUPPORTED = new Unsupported();

const SPACE = 32;
const NL = 10;
const HASH = 35;
const COLON = 58;
const DASH = 45;

/** The top-level node of `text`, or undefined when the text needs the full `yaml` parser. */
export function fastParseYaml(text: string): FastNode | undefined {
  // Tabs, carriage returns, BOMs and multi-document markers need the full parser.
  if (/[\t\r\uFEFF]|^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  try {
    return new Reader(text).document();
  } catch (error) {
    if (error === UNSUPPORTED) return undefined;
    throw error;
  }
}

class Reader {
  private readonly length: number;
  /** Offset of the current line's start; the reader moves line by line. */
  private lineStart = 0;
  /** Indent of the current line (offset of its first non-space from lineStart). */
  private indent = 0;

  constructor(private readonly text: string) {
    this.length = text.length;
  }

  document(): FastNode | undefined {
    if (!this.toContentLine(0)) return undefined;
    if (this.indent !== 0) throw UNSUPPORTED;
    const node = this.block(this.lineStart);
    if (this.lineStart < this.length) throw UNSUPPORTED;
    return node;
  }

  /**
   * Moves to the first line at or after `from` with content (not blank, not only a comment);
   * false at the end of the text.
   */
  private toContentLine(from: number): boolean {
    const text = this.text;
    let start = from;
    while (start < this.length) {
      let i = start;
      while (text.charCodeAt(i) === SPACE) i++;
      const c = text.charCodeAt(i);
      if (i < this.length && c !== NL && c !== HASH) {
        this.lineStart = start;
        this.indent = i - start;
        return true;
      }
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      start = end + 1;
    }
    this.lineStart = this.length;
    this.indent = -1;
    return false;
  }

  /** Moves past the end of the line holding `pos` (after checking nothing but a comment is left). */
  private endLine(pos: number): void {
    const text = this.text;
    let i = pos;
    while (text.charCodeAt(i) === SPACE) i++;
    if (i < this.length) {
      const c = text.charCodeAt(i);
      if (c === HASH) {
        if (i === pos && i > 0 && text.charCodeAt(i - 1) !== SPACE) throw UNSUPPORTED;
      } else if (c !== NL) {
        throw UNSUPPORTED;
      }
    }
    const end = text.indexOf('\n', i);
    this.toContentLine(end < 0 ? this.length : end + 1);
  }

  /** A block mapping or sequence starting at `pos` (a content position). */
  private block(pos: number): FastNode {
    const text = this.text;
    if (text.charCodeAt(pos) === DASH && this.isBlank(pos + 1)) return this.sequence(pos);
    return this.mapping(pos);
  }

  private isBlank(pos: number): boolean {
    if (pos >= this.length) return true;
    const c = this.text.charCodeAt(pos);
    return c === SPACE || c === NL;
  }

  private column(pos: number): number {
    return pos - this.lineStart;
  }

  private sequence(start: number): FastNode {
    const text = this.text;
    const column = this.column(start);
    const items: FastNode[] = [];
    let pos = start;
    for (;;) {
      let i = pos + 1;
      while (text.charCodeAt(i) === SPACE) i++;
      items.push(this.entryValue(i, column, true));
      if (this.indent !== column) break;
      pos = this.lineStart + column;
      if (text.charCodeAt(pos) !== DASH || !this.isBlank(pos + 1)) break;
    }
    if (this.indent > column) throw UNSUPPORTED;
    return { kind: FAST_SEQ, start: start, items };
  }

  private mapping(start: number): FastNode {
    const text = this.text;
    const column = this.column(start);
    const items: FastPair[] = [];
    let pos = start;
    for (;;) {
      const key = this.key(pos);
      items.push({ key, value: this.entryValue(this.keyEnd, column, false) });
      if (this.indent !== column) break;
      pos = this.lineStart + column;
      if (text.charCodeAt(pos) === DASH && this.isBlank(pos + 1)) break;
    }
    if (this.indent > column) throw UNSUPPORTED;
    return { kind: FAST_MAP, start: start, items };
  }

  /** Set by key(): the offset after the key's `:` and the spaces after it. */
  private keyEnd = 0;

  /** A mapping key at `pos` followed by `:`; plain or quoted, one line. */
  private key(pos: number): FastNode {
    const text = this.text;
    const c = text.charCodeAt(pos);
    let node: FastNode;
    let end: number;
    if (c === 34 || c === 39) {
      node = this.quoted(pos);
      end = this.quotedEnd;
      while (text.charCodeAt(end) === SPACE) end++;
      if (text.charCodeAt(end) !== COLON || !this.isBlank(end + 1)) throw UNSUPPORTED;
    } else {
      if (!this.plainStart(pos, c)) throw UNSUPPORTED;
      end = this.plainEnd(pos, false);
      if (text.charCodeAt(end) !== COLON || !this.isBlank(end + 1)) throw UNSUPPORTED;
      let last = end;
      while (text.charCodeAt(last - 1) === SPACE) last--;
      node = plainScalar(text.slice(pos, last), pos);
    }
    // YAML limits implicit keys to 1024 characters; long ones get the full parser's error.
    if (end - pos > 1000) throw UNSUPPORTED;
    end++;
    while (text.charCodeAt(end) === SPACE) end++;
    this.keyEnd = end;
    return node;
  }

  /**
   * The value after a mapping key (`inSequence` false) or a sequence dash, at `pos` on the
   * line; `column` is the column of the key or dash. Leaves the reader on the next content line.
   */
  private entryValue(pos: number, column: number, inSequence: boolean): FastNode {
    const text = this.text;
    let anchor: string | undefined;
    let tag: string | undefined;
    let c = text.charCodeAt(pos);
    // Properties: `&anchor` and the merge tags `!reset` / `!override`, in either order.
    for (let n = 0; n < 2 && (c === 38 || c === 33); n++) {
      const end = this.wordEnd(pos + 1);
      if (end === pos + 1) throw UNSUPPORTED;
      if (c === 38) {
        if (anchor !== undefined) throw UNSUPPORTED;
        anchor = text.slice(pos + 1, end);
      } else {
        if (tag !== undefined) throw UNSUPPORTED;
        tag = text.slice(pos, end);
        if (tag !== '!reset' && tag !== '!override') throw UNSUPPORTED;
      }
      pos = end;
      if (!this.isBlank(pos)) throw UNSUPPORTED;
      while (text.charCodeAt(pos) === SPACE) pos++;
      c = text.charCodeAt(pos);
    }
    let node: FastNode;
    if (pos >= this.length || c === NL || c === HASH) {
      // Nothing more on this line: the value is the block below, or empty.
      if (c === HASH && text.charCodeAt(pos - 1) !== SPACE) throw UNSUPPORTED;
      this.endLine(pos);
      const nested = this.indent > column || (!inSequence && this.indent === column && text.charCodeAt(this.lineStart + column) === DASH && this.isBlank(this.lineStart + column + 1));
      if (nested) {
        node = this.block(this.lineStart + this.indent);
      } else {
        // An empty value, which YAML reads as null ("" when tagged).
        if (inSequence && anchor === undefined && tag === undefined) throw UNSUPPORTED;
        node = { kind: FAST_SCALAR, start: pos, value: tag ? '' : null, source: '', type: 'PLAIN' };
      }
    } else if (c === 42) {
      if (anchor !== undefined || tag !== undefined) throw UNSUPPORTED;
      const end = this.wordEnd(pos + 1);
      if (end === pos + 1) throw UNSUPPORTED;
      node = { kind: FAST_ALIAS, start: pos, source: text.slice(pos + 1, end) };
      this.endLine(end);
    } else if (c === 91 || c === 123) {
      node = this.flow(pos);
      this.endLine(this.flowEnd);
    } else if (c === 34 || c === 39) {
      node = this.quoted(pos);
      if (tag) node.value = String(node.value);
      this.endLine(this.quotedEnd);
    } else if (c === 124) {
      node = this.literal(pos, column);
    } else if (c === DASH && this.isBlank(pos + 1) && inSequence) {
      if (anchor !== undefined || tag !== undefined) throw UNSUPPORTED;
      node = this.sequence(pos);
      return node;
    } else {
      if (!this.plainStart(pos, c)) throw UNSUPPORTED;
      const end = this.plainEnd(pos, false);
      if (text.charCodeAt(end) === COLON) {
        // `- key: value`: a mapping in a sequence item.
        if (!inSequence || anchor !== undefined || tag !== undefined) throw UNSUPPORTED;
        return this.mapping(pos);
      }
      let last = end;
      while (text.charCodeAt(last - 1) === SPACE) last--;
      const source = text.slice(pos, last);
      node = tag ? { kind: FAST_SCALAR, start: pos, value: source, source, type: 'PLAIN' } : plainScalar(source, pos);
      this.endLine(end);
    }
    // A more indented line after a one-line value continues it (multi-line scalar) or is an error.
    if (this.indent > column) throw UNSUPPORTED;
    if (anchor !== undefined) node.anchor = anchor;
    if (tag !== undefined) node.tag = tag;
    return node;
  }

  /**
   * A literal block scalar (`|`, `|-`, `|+`) at `pos` whose parent sits at `column`. Folded
   * scalars, indentation indicators and lines of only spaces longer than the content indent
   * are left to the full parser. Leaves the reader on the next content line.
   */
  private literal(pos: number, column: number): FastNode {
    const text = this.text;
    let i = pos + 1;
    const chomp = text.charCodeAt(i);
    if (chomp === DASH || chomp === 43) i++;
    const headerEnd = this.lineEndFrom(i);
    let rest = i;
    while (text.charCodeAt(rest) === SPACE) rest++;
    if (rest < headerEnd && (text.charCodeAt(rest) !== HASH || rest === i)) throw UNSUPPORTED;
    if (headerEnd >= this.length) throw UNSUPPORTED;
    let lineStart = headerEnd + 1;
    let contentIndent = -1;
    let value = '';
    let blankRun = '';
    let blankMax = 0;
    while (lineStart < this.length) {
      let k = lineStart;
      while (text.charCodeAt(k) === SPACE) k++;
      const spaces = k - lineStart;
      const atEnd = k >= this.length || text.charCodeAt(k) === NL;
      if (atEnd) {
        // A line of only spaces: an empty line of the scalar (if more follow inside it).
        if (k >= this.length) break;
        blankMax = Math.max(blankMax, spaces);
        blankRun += '\n';
        lineStart = k + 1;
        continue;
      }
      if (contentIndent < 0) {
        if (spaces <= column) break;
        contentIndent = spaces;
      }
      if (spaces < contentIndent) break;
      if (blankMax > contentIndent) throw UNSUPPORTED;
      const end = this.lineEndFrom(k);
      if (end >= this.length) throw UNSUPPORTED;
      value += blankRun + text.slice(lineStart + contentIndent, end) + '\n';
      blankRun = '';
      blankMax = 0;
      lineStart = end + 1;
    }
    if (contentIndent < 0 || blankMax > contentIndent) throw UNSUPPORTED;
    if (chomp === DASH) value = value.slice(0, -1);
    else if (chomp === 43) value += blankRun;
    this.toContentLine(lineStart);
    return { kind: FAST_SCALAR, start: pos, value, type: 'BLOCK_LITERAL' };
  }

  /** End of an anchor or alias name. */
  private wordEnd(pos: number): number {
    const text = this.text;
    let i = pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (i >= this.length || c === SPACE || c === NL || c === 44 || c === 91 || c === 93 || c === 123 || c === 125) return i;
      i++;
    }
  }

  /** A plain scalar may start with `c` at `pos`. */
  private plainStart(pos: number, c: number, flow = false): boolean {
    switch (c) {
      case 44: case 91: case 93: case 123: case 125: case HASH: case 38: case 42: case 33:
      case 124: case 62: case 39: case 34: case 37: case 64: case 96: case NL:
        return false;
      case DASH: case 63: case COLON: {
        // `-`, `?` and `:` start a plain scalar only before a character that is safe here.
        if (this.isBlank(pos + 1)) return false;
        const next = this.text.charCodeAt(pos + 1);
        return !flow || !(next === 44 || next === 91 || next === 93 || next === 123 || next === 125);
      }
      default:
        return pos < this.length;
    }
  }

  /**
   * End of a one-line plain scalar from `pos`: at `: ` (or `:` at line end), ` #`, the line
   * end, and in flow context also at `,[]{}`. Returns the offset of the stop (trailing spaces included).
   */
  private plainEnd(pos: number, flow: boolean): number {
    const text = this.text;
    let i = pos;
    for (;;) {
      if (i >= this.length) return i;
      const c = text.charCodeAt(i);
      if (c === NL) return i;
      if (c === COLON) {
        const next = i + 1 < this.length ? text.charCodeAt(i + 1) : NL;
        if (next === SPACE || next === NL || (flow && (next === 44 || next === 93 || next === 125 || next === 91 || next === 123))) return i;
      } else if (c === HASH) {
        if (text.charCodeAt(i - 1) === SPACE) return i;
      } else if (flow && (c === 44 || c === 91 || c === 93 || c === 123 || c === 125)) {
        return i;
      }
      i++;
    }
  }

  /** Set by quoted(): the offset after the closing quote. */
  private quotedEnd = 0;

  /** A one-line quoted scalar at `pos` (no escapes; `''` in single quotes). */
  private quoted(pos: number): FastNode {
    const text = this.text;
    const quote = text.charCodeAt(pos);
    const lineEnd = this.lineEndFrom(pos);
    let i = pos + 1;
    let value = '';
    for (;;) {
      const close = text.indexOf(quote === 34 ? '"' : "'", i);
      if (close < 0 || close > lineEnd) throw UNSUPPORTED;
      // Escapes are left to the full parser.
      if (quote === 34) {
        for (let k = i; k < close; k++) if (text.charCodeAt(k) === 92) throw UNSUPPORTED;
      }
      if (quote === 39 && text.charCodeAt(close + 1) === 39) {
        value += text.slice(i, close + 1);
        i = close + 2;
        continue;
      }
      value += text.slice(i, close);
      this.quotedEnd = close + 1;
      break;
    }
    const after = text.charCodeAt(this.quotedEnd);
    if (this.quotedEnd < this.length && after !== SPACE && after !== NL && after !== COLON && after !== 44 && after !== 93 && after !== 125) throw UNSUPPORTED;
    return { kind: FAST_SCALAR, start: pos, value, type: quote === 34 ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE' };
  }

  private lineEndFrom(pos: number): number {
    const end = this.text.indexOf('\n', pos);
    return end < 0 ? this.length : end;
  }

  /** Set by flow(): the offset after the closing bracket. */
  private flowEnd = 0;

  /** A one-line flow sequence or mapping at `pos`; aliases inside, but no anchors or tags. */
  private flow(pos: number): FastNode {
    const text = this.text;
    const isSeq = text.charCodeAt(pos) === 91;
    const close = isSeq ? 93 : 125;
    const items: (FastNode | FastPair)[] = [];
    let i = this.skipFlowSpace(pos + 1);
    if (text.charCodeAt(i) === close) {
      this.flowEnd = i + 1;
      return { kind: isSeq ? FAST_SEQ : FAST_MAP, start: pos, items };
    }
    for (;;) {
      const item = this.flowScalarOrCollection(i);
      i = this.skipFlowSpace(this.flowEnd);
      if (isSeq) {
        if (text.charCodeAt(i) === COLON) throw UNSUPPORTED;
        items.push(item);
      } else {
        if (text.charCodeAt(i) !== COLON || item.kind !== FAST_SCALAR) throw UNSUPPORTED;
        i = this.skipFlowSpace(i + 1);
        const c = text.charCodeAt(i);
        if (c === 44 || c === close) throw UNSUPPORTED;
        const value = this.flowScalarOrCollection(i);
        items.push({ key: item, value });
        i = this.skipFlowSpace(this.flowEnd);
      }
      const c = text.charCodeAt(i);
      if (c === close) break;
      if (c !== 44) throw UNSUPPORTED;
      i = this.skipFlowSpace(i + 1);
      // A trailing comma before the close is left to the full parser.
      if (text.charCodeAt(i) === close) throw UNSUPPORTED;
    }
    this.flowEnd = i + 1;
    return { kind: isSeq ? FAST_SEQ : FAST_MAP, start: pos, items };
  }

  private skipFlowSpace(pos: number): number {
    let i = pos;
    while (this.text.charCodeAt(i) === SPACE) i++;
    if (i >= this.length || this.text.charCodeAt(i) === NL || this.text.charCodeAt(i) === HASH) throw UNSUPPORTED;
    return i;
  }

  /** One flow item at `pos`; sets flowEnd to the offset after it. */
  private flowScalarOrCollection(pos: number): FastNode {
    const text = this.text;
    const c = text.charCodeAt(pos);
    if (c === 91 || c === 123) return this.flow(pos);
    if (c === 42) {
      // An alias, as in `<<: [*a, *b]`.
      const end = this.wordEnd(pos + 1);
      if (end === pos + 1) throw UNSUPPORTED;
      this.flowEnd = end;
      return { kind: FAST_ALIAS, start: pos, source: this.text.slice(pos + 1, end) };
    }
    if (c === 34 || c === 39) {
      const node = this.quoted(pos);
      this.flowEnd = this.quotedEnd;
      return node;
    }
    if (!this.plainStart(pos, c, true)) throw UNSUPPORTED;
    const end = this.plainEnd(pos, true);
    let last = end;
    while (text.charCodeAt(last - 1) === SPACE) last--;
    this.flowEnd = last;
    return plainScalar(text.slice(pos, last), pos);
  }
}

/** A plain scalar resolved as the YAML 1.2 core schema does (the `yaml` package's default). */
function plainScalar(source: string, pos: number): FastNode {
  return { kind: FAST_SCALAR, start: pos, value: resolvePlain(source), source, type: 'PLAIN' };
}

function resolvePlain(source: string): unknown {
  const c = source.charCodeAt(0);
  // Only these first characters can start a null, boolean or number.
  if (!(c === 126 || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70 || c === 43 || c === 45 || c === 46 || (c >= 48 && c <= 57))) return source;
  if (/^(?:~|[Nn]ull|NULL)$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(source)) return c === 116 || c === 84;
  if (/^0o[0-7]+$/.test(source)) return parseInt(source.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(source)) return parseInt(source, 10);
  if (/^0x[0-9a-fA-F]+$/.test(source)) return parseInt(source.slice(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(source)) {
    return source.slice(-3).toLowerCase() === 'nan' ? NaN : source[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) return parseFloat(source);
  return source;
}
