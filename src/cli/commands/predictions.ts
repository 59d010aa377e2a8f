// What `vitc run` prints about its predictions: per image the tutorial's line
// ("class: daisy   prob: 0.912", formatted as Python's "{:.3}" formats it), the top K, or JSON.

export interface Prediction {
  /** The image file, or undefined for tensor input. */
  readonly image?: string;
  readonly logits: Float32Array;
  readonly probs: Float64Array;
}

export function predictions(logits: Float32Array, batch: number, images?: readonly string[]): Prediction[] {
  const classes = logits.length / batch;
  return Array.from({ length: batch }, (_, b) => {
    const row = logits.subarray(b * classes, (b + 1) * classes);
    const mx = row.reduce((a, v) => Math.max(a, v), -Infinity);
    const e = Float64Array.from(row, (v) => Math.exp(v - mx));
    const z = e.reduce((a, v) => a + v, 0);
    return { image: images?.[b], logits: row, probs: e.map((v) => v / z) };
  });
}

/** Class indices by descending probability (ties by index). */
export function ranking(p: Prediction): number[] {
  return [...p.probs.keys()].sort((i, j) => p.probs[j]! - p.probs[i]! || i - j);
}

const labelOf = (labels: readonly string[] | undefined, c: number) => labels?.[c] ?? String(c);

export function formatText(ps: readonly Prediction[], labels: readonly string[] | undefined, top: number): string[] {
  const lines: string[] = [];
  const width = labels ? Math.max(...labels.map((l) => l.length)) : 5;
  ps.forEach((p, b) => {
    const order = ranking(p);
    const k = Math.min(top, p.probs.length);
    if (p.image !== undefined) {
      const c = order[0]!;
      lines.push(`${p.image}: class: ${labelOf(labels, c)}   prob: ${pyFormat(Math.fround(p.probs[c]!), 3)}`);
    } else if (k > 0) {
      lines.push(`image ${b}: top-${k} of ${p.probs.length} classes`);
    }
    order.slice(0, k).forEach((c, r) => {
      const name = labels ? labels[c]!.padEnd(width) : `class ${String(c).padEnd(5)}`;
      lines.push(`  ${r + 1}. ${name} p=${p.probs[c]!.toFixed(4)}  logit=${p.logits[c]!.toFixed(4)}`);
    });
  });
  return lines;
}

export interface RunSummary {
  readonly model: string;
  readonly target: string;
  readonly precision: string;
  readonly preprocess?: string;
  readonly loadMs: number;
  readonly forwardMs: number;
}

export function formatJson(ps: readonly Prediction[], labels: readonly string[] | undefined, top: number, s: RunSummary): string {
  const results = ps.map((p, b) => {
    const order = ranking(p);
    const entry = (c: number) => ({ class: c, ...(labels ? { label: labels[c] } : {}), prob: p.probs[c]!, logit: p.logits[c]! });
    return { index: b, ...(p.image !== undefined ? { image: p.image } : {}), ...entry(order[0]!), top: order.slice(0, top).map(entry) };
  });
  return JSON.stringify({
    model: s.model, target: s.target, precision: s.precision, ...(s.preprocess ? { preprocess: s.preprocess } : {}),
    results, load_ms: Math.round(s.loadMs), forward_ms: Math.round(s.forwardMs),
  }, null, 2);
}

/**
 * Python's format(x, '.N') for a float: N significant digits, correctly rounded half to even on the
 * exact binary value, fixed notation for exponents -4..N-2 (with at least one decimal), otherwise
 * scientific with a two-digit exponent; trailing zeros dropped.
 */
export function pyFormat(x: number, precision: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0.0`;
  const { digits, exp } = roundDecimal(Math.abs(x), precision);
  if (exp < -4 || exp >= precision - 1) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}`.replace(/\.?0+$/, '') : digits;
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  let text: string;
  if (exp >= 0) {
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    text = `${int}.${frac || '0'}`;
  } else {
    text = `0.${'0'.repeat(-exp - 1)}${digits}`.replace(/0+$/, '');
  }
  return sign + text;
}

/** `precision` significant decimal digits of positive finite x, rounded half to even exactly. */
function roundDecimal(x: number, precision: number): { digits: string; exp: number } {
  // x = m * 2^e exactly; its decimal expansion is m * 5^-e with -e decimals (e < 0).
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0), lo = bits.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) m |= 1n << 52n;
  let all: string; // all significant digits
  let pointExp: number; // exponent of the first digit
  if (e >= 0) {
    all = (m << BigInt(e)).toString();
    pointExp = all.length - 1;
  } else {
    const scaled = (m * 5n ** BigInt(-e)).toString();
    pointExp = scaled.length - 1 + e;
    all = scaled;
  }
  all = all.replace(/0+$/, '') || '0';
  if (all.length <= precision) return { digits: all.padEnd(precision, '0'), exp: pointExp };
  let head = BigInt(all.slice(0, precision));
  const rest = all.slice(precision);
  const cmp = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1))) ? 1 : rest[0] === '5' ? 0 : -1;
  if (cmp > 0 || (cmp === 0 && head % 2n === 1n)) head += 1n;
  let digits = head.toString();
  if (digits.length > precision) { digits = digits.slice(0, precision); pointExp += 1; }
  return { digits, exp: pointExp };
}
