// Helpers shared by commands.
import { fail } from '../../diag/diagnostic.js';
import { DUMP_POINTS } from '../../passes/pipeline.js';
import { didYouMean } from '../../util/suggest.js';

export function checkDumpName(name: string): void {
  if (!DUMP_POINTS.includes(name)) {
    fail('cli/dump-ir', `unknown pass "${name}" for --dump-ir`, undefined, didYouMean(name, DUMP_POINTS) ?? `passes: ${DUMP_POINTS.join(', ')}`);
  }
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** GMACs with two decimals (17.56), or three significant digits for small models. */
export function fmtGmacs(macs: number): string {
  const g = macs / 1e9;
  return g >= 0.1 ? g.toFixed(2) : g.toPrecision(3);
}
