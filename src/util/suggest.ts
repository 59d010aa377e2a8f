// Suggestions in diagnostics: "did you mean ...?" by edit distance, and the divisors nearest a count.
import { quote } from '../diag/quote.js';

/** Edits from a to b: insertions, deletions, substitutions, and swaps of two neighbouring letters ("gleu" -> "gelu" is one). */
export function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0); // row i - 2
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j); // row i - 1
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The closest candidate within a distance of a third of the word's length (at least 1), or undefined.
 * A short word gets one edit: "foo" is two from "log", a guess that misleads more than it helps.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of [...candidates].sort()) {
    // The distance is at least the difference in length: skip what cannot be close (a 1 MB word is cheap).
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return bestD <= limit ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean ${quote(c)}?`;
}

/** The two divisors of n nearest k, ascending, as "a or b" (a hint for head and group counts). */
export function divisorsNear(n: number, k: number): string {
  // Divisors come in pairs (d, n / d) with d <= sqrt(n): O(sqrt n), so embed_dim 2^40 is instant.
  const ds: number[] = [];
  for (let d = 1; d * d <= n; d++) if (n % d === 0) ds.push(...new Set([d, n / d]));
  ds.sort((a, b) => Math.abs(a - k) - Math.abs(b - k) || a - b);
  return ds.slice(0, 2).sort((a, b) => a - b).join(' or ');
}

/** The multiples of k on either side of n, as "a or b" (a hint for sizes that must divide by k). */
export function multiplesNear(k: number, n: number): string {
  return `${Math.floor(n / k) * k || k} or ${Math.ceil(n / k) * k}`;
}
