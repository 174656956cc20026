// The fast YAML reader must give exactly what the full `yaml` path gives (data, places, merge
// tags), and hand everything it does not fully understand to the full path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml, type ParsedDocument } from '../../src/load/parse-yaml.js';
import { fastParseYaml } from '../../src/load/fast-yaml.js';
import { metaOf } from '../../src/load/source-meta.js';

/** Differences between two parsed values including their side tables; empty when equal. */
function differences(a: unknown, b: unknown, path = '', out: string[] = []): string[] {
  if (out.length > 0) return out;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    return out;
  }
  if (typeof a !== 'object' || a === null) {
    if (!Object.is(a, b)) out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    return out;
  }
  const right = b as Record<string, unknown>;
  const left = a as Record<string, unknown>;
  if (Object.keys(left).join('\0') !== Object.keys(right).join('\0')) {
    out.push(`${path}: keys ${Object.keys(left).join(',')} vs ${Object.keys(right).join(',')}`);
    return out;
  }
  const leftMeta = metaOf(left);
  const rightMeta = metaOf(right);
  for (const name of Object.keys(left)) {
    const key = Array.isArray(a) ? Number(name) : name;
    const places = [leftMeta.places.get(key), rightMeta.places.get(key)].map((place) => JSON.stringify(place));
    if (places[0] !== places[1]) out.push(`${path}.${name}: place ${places[0]} vs ${places[1]}`);
    if (leftMeta.tags?.get(key) !== rightMeta.tags?.get(key)) out.push(`${path}.${name}: tag`);
    differences(left[name], right[name], `${path}.${name}`, out);
  }
  return out;
}

type Outcome = { docs: ParsedDocument[] } | { error: string };
const parse = (text: string, fullParser: boolean): Outcome => {
  try {
    return { docs: parseYaml(text, { file: 'compose.yaml', via: 'include x', fullParser }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

/** Asserts both paths agree on `text`; returns whether the fast reader took it. */
function assertSame(text: string): boolean {
  const fast = parse(text, false);
  const full = parse(text, true);
  if ('error' in full || 'error' in fast) {
    assert.deepEqual(fast, full, `outcome differs for ${JSON.stringify(text)}`);
  } else {
    assert.equal(fast.docs.length, full.docs.length);
    assert.deepEqual(fast.docs[0].place, full.docs[0].place);
    assert.equal(fast.docs[0].hasResets, full.docs[0].hasResets);
    assert.deepEqual(differences(fast.docs[0].data, full.docs[0].data), [], `differs for ${JSON.stringify(text)}`);
  }
  return fastParseYaml(text) !== undefined;
}

const samples = [
  'services:\n  web:\n    image: nginx:1.25\n    ports:\n      - "80:80"\n      - 443:443\n    command: ["sh", \'-c\', echo hi]\n',
  'a: &x foo\nb: !reset\nc:\n  - 1\n  - &y [1, 2]\nd: *x\ne:\nf: !override\n  g: 1\n',
  "k: 'it''s'\nq: \"x y\"\nm: {a: 1, 'b': \"c\"}\nn: [a, 'b', [c, {}], []]\no: 0440\np: -1.5e3\nr: .inf\ns: ~\nt: True\nu: 0x1F\nv: 0o17\nw: 1_000\nx: 08\n",
  'x-base: &base\n  restart: always\n  labels: {a: b}\nservices:\n  web:\n    <<: *base\n    image: mine\n',
  'list:\n- a\n- b: 1\n  c: 2\n-   d: 3\n    e: 4\n- - n1\n  - n2\nafter: 1\n',
  'e:   # comment\nf:  \ng:\n  # only a comment\nh: !reset   # c\ni: &a\nj: 1\nk: !reset 5\nl: !override [1]\nm: !reset "q"\n',
  '# leading comment\n\nservices:  # trailing\n  a:\n    image: "x" # c\n    environment:\n      - A=1 # not part\n      - B=a#b\n',
  'key with spaces  : value, with [odd] {chars}\n"quoted key": 1\n\'single\': 2\nurl: http://example.com:8080/x?y=1#frag\n',
  'x-a: &a\n  image: a\nx-b: &b {init: true}\nservices:\n  web:\n    <<: [*a, *b]\n    list: [*a, {k: *b}]\n',
  'a: |\n  block\n    more\n\n  scalar\nb: |-\n  stripped\n\nc: |+\n  kept\n\n\nd:\n  - |\n    in a list # not a comment\n  - |  # comment\n     x\ne: &t |\n  anchored\nf: !reset |\n  tagged\nh: 1\n',
  'x: [a:b, "c", http://h:1]\ny: {k: v:w}\nz: -1\nw: +2\nv: -.5\nu: 1.\nt: .NaN\n',
];

const fallbacks = [
  'a: >-\n  folded\n',
  'a: |\nb: 1\n',
  'a: |2\n   x\n',
  'a: |\n    \n  x\n',
  'a: "escaped \\" quote"\n',
  'a: multi\n  line plain\n',
  '---\na: 1\n---\nb: 2\n',
  'a:\n\t- tab\n',
  '? complex\n: key\n',
  'a: [1,\n  2]\n',
  'a: 1\r\nb: 2\r\n',
  'a: b: c\n',
  'a: 1\n  b: 2\n',
  'services:\n  web:\n    image: nginx\n   ports:\n      - "80:80"\n',
  'a: 1\na: 2\n',
  'a: *nope\n',
  '# nothing\n',
  '- just\n- a list\n',
  'scalar\n',
  'a: "unterminated\n',
  'a: [1, 2,]\n',
  'a: [sh, -]\nb: {x: ?}\n',
];

test('the fast reader and the full parser agree on common compose YAML', () => {
  for (const text of samples) assert.ok(assertSame(text), `the fast reader should take ${JSON.stringify(text)}`);
});

test('YAML outside the common shape goes to the full parser with the same result or error', () => {
  for (const text of fallbacks) assertSame(text);
  assert.equal(fastParseYaml('a: >\n  folded\n'), undefined);
});

test('randomly damaged compose files give the same result on both paths', () => {
  // A seeded generator: the same cases every run, many shapes of broken and odd YAML.
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pieces = [' ', ':', '-', '#', '"', "'", '\n', '[', ']', '{', '}', ',', '&', '*', '!', 'a', '0', '  ', '- ', ': ', '\n  ', '|', '?', '<<: *a\n', '&a '];
  let fastTaken = 0;
  for (let i = 0; i < 4000; i++) {
    let text = samples[random(samples.length)];
    for (let m = 1 + random(3); m > 0; m--) {
      const at = random(text.length + 1);
      const piece = pieces[random(pieces.length)];
      const op = random(3);
      text = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + piece + text.slice(at + 1);
    }
    if (assertSame(text)) fastTaken++;
  }
  assert.ok(fastTaken > 300, `the fast reader took only ${fastTaken} of 4000 cases`);
});
