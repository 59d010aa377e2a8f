// Suggestions in diagnostics: "did you mean ...?" by edit distance, and the divisors nearest a count.
import { quote } from '../diag/quote.js';

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a distance proportional to the word's length, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(word.length / 3));
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
