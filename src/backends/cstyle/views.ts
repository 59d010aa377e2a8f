// View-index expressions: where element (i0, i1, ...) of a strided view lives, as C-like integer
// expressions in which the batch size B is a runtime value. Every size, stride and offset is affine
// in B (b·B + c), so they print as `197 * B` or `(768 * B + 128)`; the rest is constant and folded
// by the target's compiler.
import { eqA, mulA, type Affine } from '../../ir/strided.js';

/** An affine size as an integer expression over the batch variable `batch`. */
export function affine(a: Affine, batch: string): string {
  if (a.b === 0) return String(a.c);
  const bpart = a.b === 1 ? batch : `${a.b} * ${batch}`;
  if (a.c === 0) return a.b === 1 ? batch : `(${bpart})`;
  return `(${bpart} ${a.c > 0 ? '+' : '-'} ${Math.abs(a.c)})`;
}

const isOne = (d: Affine) => d.b === 0 && d.c === 1;

/**
 * Dims of one iteration space shared by several views (the same shape, each its own strides), with
 * size-1 dims dropped and neighbours merged wherever every view allows it (stride_i = stride_{i+1}·n_{i+1}).
 * Fewer dims means fewer divisions per element.
 */
export function mergeDims(shape: readonly Affine[], strides: readonly (readonly Affine[])[]): { shape: Affine[]; strides: Affine[][] } {
  const keep = shape.map((_, i) => i).filter((i) => !isOne(shape[i]!));
  let dims = keep.map((i) => shape[i]!);
  let st = strides.map((s) => keep.map((i) => s[i]!));
  for (let i = dims.length - 2; i >= 0; i--) {
    const inner = dims[i + 1]!, outer = dims[i]!;
    if (outer.b !== 0 && inner.b !== 0) continue;
    let ok = true;
    for (const s of st) {
      try {
        if (!eqA(s[i]!, mulA(s[i + 1]!, inner))) ok = false;
      } catch {
        ok = false;
      }
      if (!ok) break;
    }
    if (!ok) continue;
    const merged = mulA(outer, inner);
    dims = [...dims.slice(0, i), merged, ...dims.slice(i + 2)];
    st = st.map((s) => [...s.slice(0, i), s[i + 1]!, ...s.slice(i + 2)]);
  }
  return { shape: dims, strides: st };
}

/**
 * Coordinates of flat row-major index `flat` over `dims`, as expressions: the innermost is
 * `flat % n`, the outermost `flat / (product of the others)` (no modulo: flat is in range).
 */
export function coordinates(flat: string, dims: readonly Affine[], batch: string): string[] {
  const out: string[] = new Array(dims.length);
  let inner: Affine = { b: 0, c: 1 };
  for (let j = dims.length - 1; j >= 0; j--) {
    const q = inner.b === 0 && inner.c === 1 ? flat : `${paren(flat)} / ${affine(inner, batch)}`;
    out[j] = j === 0 ? q : `${paren(q)} % ${affine(dims[j]!, batch)}`;
    inner = mulA(inner, dims[j]!);
  }
  return out;
}

/** Σ coord_j · stride_j (zero strides skipped), or "0". */
export function offsetOf(coords: readonly string[], strides: readonly Affine[], batch: string): string {
  const terms: string[] = [];
  coords.forEach((c, j) => {
    const s = strides[j]!;
    if (s.b === 0 && s.c === 0) return;
    terms.push(s.b === 0 && s.c === 1 ? paren(c) : `${paren(c)} * ${affine(s, batch)}`);
  });
  return terms.length ? terms.join(' + ') : '0';
}

/** Parenthesize unless the expression is a plain name or number. */
export function paren(x: string): string {
  return /^[\w.]+$/.test(x) ? x : `(${x})`;
}
