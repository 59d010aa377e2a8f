// The JS target's vector f32 math and softmax, against the plain-JS references (f64) they replace.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import type { Expr, Kernel, UnaryFn } from '../../kernel/types.js';
import { UNARY } from './runtime/kernels.js';
import { epilogueName, epilogueWat, SOFTMAX_WAT, VEC_MATH_WAT } from './wasm-simd.js';

/** A GEMM kernel that only carries an epilogue (all epilogueWat reads). */
const gemmWith = (id: number, expr: Expr, ins: number) => ({ kind: 'gemm', id, epi: { expr, ins: new Array(ins).fill(null) } }) as unknown as Kernel;
const acc: Expr = { k: 'acc' };
const in0: Expr = { k: 'in', i: 0 };
const un = (fn: UnaryFn, x: Expr): Expr => ({ k: 'un', fn, x });

const VECTOR: UnaryFn[] = ['gelu', 'relu', 'silu', 'sigmoid', 'exp', 'sqrt', 'neg'];
const kernels = [
  ...VECTOR.map((fn, i) => gemmWith(i, un(fn, acc), 0)),
  // A residual add of a biased product, the shape of most ViT epilogues.
  gemmWith(50, { k: 'bin', fn: 'add', a: { k: 'in', i: 1 }, b: { k: 'bin', fn: 'add', a: acc, b: in0 } }, 2),
];

async function instance() {
  const wabt = await wabtInit();
  const wat = `(module (import "env" "mem" (memory 1))${VEC_MATH_WAT}${SOFTMAX_WAT}${kernels.map((k) => epilogueWat(k)).join('')})`;
  const m = wabt.parseWat('t.wat', wat, { simd: true });
  const bytes = m.toBinary({}).buffer;
  m.destroy();
  const mem = new WebAssembly.Memory({ initial: 64 });
  const exp = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }).exports as Record<string, (...a: number[]) => void>;
  return { mem, exp, F: new Float32Array(mem.buffer) };
}

/** Inputs spanning every regime: 0, tiny, the polynomial ranges, large, huge, both signs. */
function grid(): Float32Array {
  const xs: number[] = [0, -0, 1e-30, -1e-30, 87, 88.7, 89, 100, -87, -103, -104, -200];
  for (let v = -12; v <= 12; v += 0.0009765625 * 3) xs.push(v);
  for (let e = -20; e <= 6; e += 0.37) xs.push(2 ** e, -(2 ** e));
  return Float32Array.from(xs);
}

describe('vector f32 math in WebAssembly (JS target epilogues)', () => {
  it('matches the f64 references: exp and sigmoid/silu within 4 ulp, GELU within 1e-7 + 4 ulp, relu/sqrt/neg exact', async () => {
    const { exp, F } = await instance();
    const x = grid(), n = x.length, out = 100_000;
    F.set(x, 0);
    const worst: Record<string, number> = {}, bad: string[] = [];
    VECTOR.forEach((fn, i) => {
      exp[epilogueName(kernels[i]!)]!(0, out * 4, n);
      let w = 0;
      for (let j = 0; j < n; j++) {
        const ref = Math.fround(UNARY[fn](x[j]!)), got = F[out + j]!, ulp = Math.abs(ref) * 2 ** -23;
        // Below f32's smallest normal (2^-126) results may flush where f64 had a subnormal; GELU's erfc
        // fit has its own error, absolute in 1 + erf (1.2e-7), times x/2.
        const tol = fn === 'relu' || fn === 'sqrt' || fn === 'neg' ? 0 : 2 ** -126 + 4 * ulp + (fn === 'gelu' ? 1.2e-7 * Math.abs(x[j]!) : 0);
        const ok = Number.isNaN(ref) ? Number.isNaN(got) : ref === Infinity || tol === 0 ? Object.is(got, ref) : Math.abs(got - ref) <= tol;
        if (!ok) bad.push(`${fn}(${x[j]}) = ${got}, reference ${ref}`);
        if (Math.abs(ref) >= 2 ** -126 && ref !== Infinity) w = Math.max(w, Math.abs(got - ref) / ulp);
      }
      worst[fn] = w;
    });
    expect(bad).toEqual([]);
    expect(worst['exp']).toBeGreaterThan(0); // the check saw rounding differences, so it measures something
    expect(worst['exp']).toBeLessThanOrEqual(2);
  });

  it('runs an epilogue over any row length (vector body and one-by-one tail), in place too', async () => {
    const { exp, F } = await instance();
    const f = exp[epilogueName(kernels.at(-1)!)]!;
    for (const n of [1, 3, 4, 7, 13]) {
      const c = Float32Array.from({ length: n }, (_, j) => j * 0.25 - 1), b = Float32Array.from({ length: n }, (_, j) => 0.5 + j), r = Float32Array.from({ length: n }, (_, j) => -j);
      F.set(c, 0); F.set(b, 100); F.set(r, 200); F.fill(7, 300, 320);
      f(0, 300 * 4, 100 * 4, 200 * 4, n);
      expect(Array.from(F.subarray(300, 300 + n))).toEqual(Array.from(c, (v, j) => Math.fround(r[j]! + Math.fround(v + b[j]!))));
      expect(F[300 + n]).toBe(7); // nothing past the row
      f(0, 200 * 4, 100 * 4, 200 * 4, n); // out = the residual input itself
      expect(Array.from(F.subarray(200, 200 + n))).toEqual(Array.from(F.subarray(300, 300 + n)));
    }
  });

  it('softmax: each score row against the f64 reference within 1e-6, written down a panel column', async () => {
    const { exp, F } = await instance();
    for (const S of [1, 5, 8, 197]) {
      const row = Float32Array.from({ length: S }, (_, s) => Math.sin(s * 1.7) * 30);
      const scale = 0.125;
      F.set(row, 0);
      F.fill(-1, 1000, 1000 + 4 * S);
      exp['softmax']!(0, S, scale, 1001 * 4);
      const mx = Math.max(...Array.from(row, (v) => v * Math.fround(scale)));
      const e = Array.from(row, (v) => Math.exp(v * Math.fround(scale) - mx)), sum = e.reduce((a, v) => a + v, 0);
      for (let s = 0; s < S; s++) {
        expect(Math.abs(F[1001 + 4 * s]! - e[s]! / sum), `S=${S} s=${s}`).toBeLessThan(1e-6);
        expect(F[1000 + 4 * s]).toBe(-1); // other panel columns untouched
      }
    }
  });
});
