// Weight transforms, applied once when weights are loaded: the list a parameter carries after the
// `fold-weight-transforms` pass (manifest.json's `weight_transforms`). Shared by vitc (targets that
// embed weights, such as ONNX) and by every generated JS module (inlined there verbatim), so each
// transform is computed by one piece of code. Sums in float64, results stored as float32.

/**
 * Weight standardization (StdConv2d): each filter w[o] (a row of the first dim) becomes
 * (w[o] - mean) / sqrt(var + eps), with the biased variance over all its elements.
 */
export function standardizeFilters(w, shape, eps) {
  const rows = shape[0];
  const n = rows === 0 ? 0 : w.length / rows;
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += w[o + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) { const d = w[o + i] - mean; v += d * d; }
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) out[o + i] = (w[o + i] - mean) * inv;
  }
  return out;
}

/** Apply a parameter's transforms ([{ op, ... }], in order) to its float32 values of `shape`. */
export function applyWeightTransforms(data, shape, transforms) {
  let out = data;
  for (const t of transforms || []) {
    switch (t.op) {
      case 'standardize': out = standardizeFilters(out, shape, t.eps); break;
      default: throw new Error(`unknown weight transform ${JSON.stringify(t.op)}`);
    }
  }
  return out;
}
