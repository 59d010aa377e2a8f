// Fixed 2-D sin-cos position embeddings (as in MAE): a build-time constant, not a weight.

/**
 * Row-major [prefix + gh*gw, dim] table. For the patch at row r, column c, with
 * omega_i = 10000^(-i / (dim/4)), i < dim/4, the row is
 * [sin(c omega), cos(c omega), sin(r omega), cos(r omega)]; prefix (class/distillation) rows are zero.
 */
export function sincos2d(dim: number, gh: number, gw: number, prefix: number): number[] {
  const q = dim / 4;
  const out: number[] = new Array((prefix + gh * gw) * dim).fill(0);
  const omega = Array.from({ length: q }, (_, i) => 1 / Math.pow(10000, i / q));
  for (let r = 0; r < gh; r++) {
    for (let c = 0; c < gw; c++) {
      const base = (prefix + r * gw + c) * dim;
      for (let i = 0; i < q; i++) {
        out[base + i] = Math.sin(c * omega[i]!);
        out[base + q + i] = Math.cos(c * omega[i]!);
        out[base + 2 * q + i] = Math.sin(r * omega[i]!);
        out[base + 3 * q + i] = Math.cos(r * omega[i]!);
      }
    }
  }
  return out;
}
