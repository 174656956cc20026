/** Suggestions for misspelled names in error hints. */

/** Edit distance where swapping two neighbouring letters counts as one edit, the commonest typo. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `name` when it is close enough to be a likely typo. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of [...candidates].sort()) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) { best = candidate; bestDistance = distance; }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** A hint listing the defined names and the likely intended one: `defined services are "a", "b"; did you mean "a"?`. */
export function namesHint(kind: string, name: string, candidates: Iterable<string>): string {
  const sorted = [...candidates].sort();
  if (sorted.length === 0) return `no ${kind} is defined`;
  const list = sorted.map((candidate) => `"${candidate}"`).join(', ');
  const guess = closestName(name, sorted);
  return `defined ${kind} ${sorted.length === 1 ? 'is' : 'are'} ${list}${guess ? `; did you mean "${guess}"?` : ''}`;
}
