/** Levenshtein distance, for "did you mean" answers. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to `limit` names closest to `input` (substring matches first), within a sensible distance. */
export function closestNames(input: string, names: string[], limit = 3): string[] {
  const max = Math.max(3, Math.floor(input.length / 2));
  return names
    .map((name) => ({
      name,
      d: name.includes(input) || input.includes(name) ? 0 : editDistance(input, name),
    }))
    .filter((x) => x.d <= max)
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((x) => x.name);
}
