// Float formats shared by vitc and by generated modules (inlined there verbatim): IEEE half
// (float16) and bfloat16, both ways, rounding float32 to nearest with ties to even (what numpy's
// astype, torch's .half()/.bfloat16() and ONNX Runtime's Cast do). Node 20 has no Float16Array.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The value of a float16 bit pattern. */
export function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 5.960464477539063e-8;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * Math.pow(2, e - 15);
}

/** The float16 bit pattern nearest to `v` (after rounding `v` to float32). */
export function halfBits(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) return sign | (abs > 0x7f800000 ? 0x7e00 : 0x7c00); // NaN stays NaN, inf stays inf
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds past the largest half (65504)
  if (abs <= 0x33000000) return sign; // <= 2^-25 rounds to zero (2^-25 itself ties to the even 0)
  const exp = abs >>> 23;
  if (exp < 113) {
    // A half subnormal: the value is mant * 2^(exp-150), in units of 2^-24 that is mant >> (126 - exp).
    const mant = (abs & 0x7fffff) | 0x800000;
    const shift = 126 - exp;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++; // may carry into the smallest normal: still right
    return sign | h;
  }
  // Normal: rebias the exponent (127 -> 15) and keep 10 of the 23 mantissa bits; a carry out of the
  // mantissa correctly bumps the exponent.
  let h = ((exp - 112) << 10) | ((abs >>> 13) & 0x3ff);
  const rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** The value of a bfloat16 bit pattern (the top half of a float32). */
export function bf16ToFloat(h) {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** The bfloat16 bit pattern nearest to `v` (after rounding `v` to float32); NaN stays a quiet NaN. */
export function bf16Bits(v) {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 values -> float16 bit patterns. */
export function toHalf(data) {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = halfBits(data[i]);
  return out;
}

/** float32 values -> bfloat16 bit patterns. */
export function toBf16(data) {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = bf16Bits(data[i]);
  return out;
}

/** float32 values rounded through a storage format ('f32', 'f16' or 'bf16') and back, in place. */
export function roundThrough(data, storage) {
  if (storage === 'f16') for (let i = 0; i < data.length; i++) data[i] = halfToFloat(halfBits(data[i]));
  else if (storage === 'bf16') for (let i = 0; i < data.length; i++) data[i] = bf16ToFloat(bf16Bits(data[i]));
  return data;
}
