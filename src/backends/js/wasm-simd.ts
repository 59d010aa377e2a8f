// WebAssembly SIMD128 (as WAT) for the JS target's work besides the GEMM micro-kernel: vector f32
// math (exp, GELU via erf, sigmoid), each GEMM's epilogue compiled from its expression, and the
// attention softmax. All f32 (the precision the kernel program declares: math f32), deterministic
// (no relaxed SIMD), so Node and browsers give the same bits and the thread count never matters.
import type { Expr, Kernel, UnaryFn } from '../../kernel/types.js';

/** An f32 constant as an exact WAT literal (the value rounded to f32). */
function f32(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const r = Math.fround(v);
  return Object.is(r, -0) ? '-0' : String(r);
}

/** A v128 with every lane v. */
const splat = (v: number) => `(f32x4.splat (f32.const ${f32(v)}))`;

/**
 * Helper functions, each (v128) -> v128:
 * - $exp: e^x by x = n·ln2 + r (Cody-Waite, |r| <= ln2/2), a degree-7 Taylor polynomial of e^r and
 *   2^n applied as two exponent-field scalings (so n in [-150, 128] neither wraps nor loses range);
 *   x is clamped to [-104, 89], where e^x is already 0 or inf in f32. NaN stays NaN.
 * - $gelu: x/2·(1 + erf(x/√2)) with the erfc fit that runtime/kernels.js uses (relative error of
 *   erfc < 1.2e-7): 1 + erf is 2 - erfc(z) for x >= 0 and erfc(z) for x < 0, so large negative x
 *   keeps its tiny value instead of cancelling to 0.
 * - $sigmoid: 1 / (1 + e^-x).
 */
export const VEC_MATH_WAT = `
  (func $exp (param $x v128) (result v128) (local $n v128) (local $r v128) (local $p v128) (local $i v128) (local $h v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) ${splat(-104)}) ${splat(89)}))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) ${splat(Math.LOG2E)})))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) ${splat(0.693359375)})) (f32x4.mul (local.get $n) ${splat(-2.12194440e-4)})))
    (local.set $p ${splat(1 / 5040)})
    ${[1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1].map((c) => `(local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${splat(c)}))`).join('\n    ')}
    (local.set $i (i32x4.trunc_sat_f32x4_s (local.get $n)))
    (local.set $h (i32x4.shr_s (local.get $i) (i32.const 1)))
    (f32x4.mul (f32x4.mul (local.get $p) (i32x4.shl (i32x4.add (local.get $h) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $i) (local.get $h)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
  (func $gelu (param $x v128) (result v128) (local $z v128) (local $t v128) (local $q v128) (local $r v128)
    (local.set $z (f32x4.mul (f32x4.abs (local.get $x)) ${splat(Math.SQRT1_2)}))
    (local.set $t (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (f32x4.mul ${splat(0.5)} (local.get $z)))))
    (local.set $q ${splat(0.17087277)})
    ${[-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368].map((c) => `(local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) ${splat(c)}))`).join('\n    ')}
    (local.set $q (f32x4.mul (local.get $q) (local.get $t)))
    (local.set $r (f32x4.mul (local.get $t) (call $exp (f32x4.add (f32x4.sub (f32x4.neg (f32x4.mul (local.get $z) (local.get $z))) ${splat(1.26551223)}) (local.get $q)))))
    (f32x4.mul (f32x4.mul ${splat(0.5)} (local.get $x))
      (v128.bitselect (f32x4.sub ${splat(2)} (local.get $r)) (local.get $r) (f32x4.ge (local.get $x) (v128.const i32x4 0 0 0 0)))))
  (func $sigmoid (param $x v128) (result v128)
    (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (call $exp (f32x4.neg (local.get $x))))))`;

/** Each unary function as WAT over a v128 operand, or null where it has no vector form here (the epilogue stays JS). */
const VEC_UNARY: Readonly<Record<UnaryFn, ((x: string) => string) | null>> = {
  gelu: (x) => `(call $gelu ${x})`,
  gelu_tanh: null,
  relu: (x) => `(f32x4.pmax (v128.const i32x4 0 0 0 0) ${x})`, // 0 < x ? x : 0, as the JS reference (NaN -> 0)
  silu: (x) => `(f32x4.mul ${x} (call $sigmoid ${x}))`,
  sigmoid: (x) => `(call $sigmoid ${x})`,
  tanh: null,
  exp: (x) => `(call $exp ${x})`,
  log: null,
  sqrt: (x) => `(f32x4.sqrt ${x})`,
  neg: (x) => `(f32x4.neg ${x})`,
};

const VEC_BIN: Readonly<Record<string, string>> = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div' };

/** The expression as WAT over v128 operands (`acc` and `leaf(i)` give the loads), or null if some part has no vector form. */
export function vecExpr(e: Expr, acc: string, leaf: (i: number) => string): string | null {
  switch (e.k) {
    case 'in': return leaf(e.i);
    case 'acc': return acc;
    case 'const': return splat(e.v);
    case 'un': {
      const f = VEC_UNARY[e.fn], x = vecExpr(e.x, acc, leaf);
      return f && x !== null ? f(x) : null;
    }
    case 'bin': {
      const a = vecExpr(e.a, acc, leaf), b = vecExpr(e.b, acc, leaf);
      return a !== null && b !== null ? `(${VEC_BIN[e.fn]} ${a} ${b})` : null;
    }
  }
}

/** The exported name of kernel k's vector epilogue. */
export const epilogueName = (k: Kernel) => `e${k.id}`;

/**
 * Kernel k's epilogue as a function over one row of contiguous columns, or null where it has none
 * (not a GEMM or GroupNorm, or a function without a vector form):
 * (c, o, x0, x1, ..., n): o[j] = expr(acc = c[j], in_i = x_i[j]) for j < n, all byte addresses.
 * Four columns at a time, then the rest one by one (the same expression on splatted loads, lane 0 stored).
 */
export function epilogueWat(k: Kernel): string | null {
  if (k.kind !== 'gemm' && k.kind !== 'groupnorm') return null;
  const n = k.epi.ins.length, xs = Array.from({ length: n }, (_, i) => `$x${i}`);
  const vec = vecExpr(k.epi.expr, '(v128.load (local.get $c))', (i) => `(v128.load (local.get $x${i}))`);
  const one = vecExpr(k.epi.expr, '(v128.load32_splat (local.get $c))', (i) => `(v128.load32_splat (local.get $x${i}))`);
  if (vec === null || one === null) return null;
  const step = (b: number) => ['$c', '$o', ...xs].map((p) => `(local.set ${p} (i32.add (local.get ${p}) (i32.const ${b})))`).join(' ');
  return `
  (func (export "${epilogueName(k)}") (param $c i32) (param $o i32) ${xs.map((x) => `(param ${x} i32) `).join('')}(param $n i32)
    (block $vd (loop $vl
      (br_if $vd (i32.lt_u (local.get $n) (i32.const 4)))
      (v128.store (local.get $o) ${vec})
      ${step(16)}
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $vl)))
    (block $sd (loop $sl
      (br_if $sd (i32.eqz (local.get $n)))
      (v128.store32_lane 0 (local.get $o) ${one})
      ${step(4)}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $sl))))`;
}

/**
 * softmax(c, S, scale, dst): one attention score row of S floats at c (byte address): p = e^(x·scale - max)
 * / Σ e^(...), with f32 statistics (lane-wise max and sum, then across lanes, in a fixed order); the
 * exponentials go back into c and p is written with a 16-byte stride from dst (a column of an A panel).
 */
export const SOFTMAX_WAT = `
  (func (export "softmax") (param $c i32) (param $S i32) (param $scale f32) (param $dst i32)
    (local $p i32) (local $e i32) (local $n4 i32) (local $m v128) (local $s v128) (local $x v128) (local $mx f32) (local $sum f32) (local $sc v128)
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $n4 (i32.add (local.get $c) (i32.shl (i32.and (local.get $S) (i32.const -4)) (i32.const 2))))
    (local.set $e (i32.add (local.get $c) (i32.shl (local.get $S) (i32.const 2))))
    (local.set $m ${splat(-Infinity)})
    (local.set $p (local.get $c))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $n4)))
      (local.set $m (f32x4.max (local.get $m) (f32x4.mul (v128.load (local.get $p)) (local.get $sc))))
      (local.set $p (i32.add (local.get $p) (i32.const 16))) (br $l)))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
      (local.set $m (f32x4.max (local.get $m) (f32x4.mul (v128.load32_splat (local.get $p)) (local.get $sc))))
      (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))
    (local.set $mx (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
      (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    (local.set $m (f32x4.splat (local.get $mx)))
    (local.set $s (v128.const i32x4 0 0 0 0))
    (local.set $p (local.get $c))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $n4)))
      (local.set $x (call $exp (f32x4.sub (f32x4.mul (v128.load (local.get $p)) (local.get $sc)) (local.get $m))))
      (v128.store (local.get $p) (local.get $x))
      (local.set $s (f32x4.add (local.get $s) (local.get $x)))
      (local.set $p (i32.add (local.get $p) (i32.const 16))) (br $l)))
    (local.set $sum (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
      (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
      (local.set $x (call $exp (f32x4.sub (f32x4.mul (v128.load32_splat (local.get $p)) (local.get $sc)) (local.get $m))))
      (v128.store32_lane 0 (local.get $p) (local.get $x))
      (local.set $sum (f32.add (local.get $sum) (f32x4.extract_lane 0 (local.get $x))))
      (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))
    (local.set $s (f32x4.splat (f32.div (f32.const 1) (local.get $sum))))
    (local.set $p (local.get $c))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $n4)))
      (local.set $x (f32x4.mul (v128.load (local.get $p)) (local.get $s)))
      (v128.store32_lane offset=0 0 (local.get $dst) (local.get $x))
      (v128.store32_lane offset=16 1 (local.get $dst) (local.get $x))
      (v128.store32_lane offset=32 2 (local.get $dst) (local.get $x))
      (v128.store32_lane offset=48 3 (local.get $dst) (local.get $x))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (local.set $p (i32.add (local.get $p) (i32.const 16))) (br $l)))
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
      (f32.store (local.get $dst) (f32.mul (f32.load (local.get $p)) (f32x4.extract_lane 0 (local.get $s))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l))))`;

/** pack's writing loop: four floats a step (lane stores `step` bytes apart), or the rest one by one. */
function packWrite(vec: boolean): string {
  const ld = vec ? 'v128.load' : 'v128.load32_splat', by = vec ? 16 : 4;
  const at = ['(local.get $dst)', '(i32.add (local.get $dst) (local.get $step))', '(i32.add (local.get $dst) (i32.shl (local.get $step) (i32.const 1)))', '(i32.add (local.get $dst) (i32.mul (local.get $step) (i32.const 3)))'];
  return `(block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get ${vec ? '$n4' : '$e'})))
      (local.set $v (${ld} (local.get $p)))
      (if (i32.and (local.get $mode) (i32.const 1)) (then
        (local.set $v (f32x4.mul (f32x4.sub (local.get $v) (local.get $m)) (local.get $iv)))
        (if (i32.and (local.get $mode) (i32.const 2)) (then (local.set $v (f32x4.mul (local.get $v) (${ld} (local.get $w))))))
        (if (i32.and (local.get $mode) (i32.const 4)) (then (local.set $v (f32x4.add (local.get $v) (${ld} (local.get $b))))))))
      ${at.slice(0, vec ? 4 : 1).map((a, l) => `(v128.store32_lane ${l} ${a} (local.get $v))`).join('\n      ')}
      (local.set $dst (i32.add (local.get $dst) ${vec ? '(i32.shl (local.get $step) (i32.const 2))' : '(local.get $step)'}))
      ${['$w', '$b', '$p'].map((x) => `(local.set ${x} (i32.add (local.get ${x}) (i32.const ${by})))`).join(' ')} (br $l)))`;
}

/**
 * pack(x, K, dst, step, mode, eps, w, b): one contiguous row of K floats at x into a column of a panel
 * (`step` bytes apart from dst: 16 for A panels, 32 for B panels), LayerNorm-ed when mode & 1 (f32
 * statistics: lane-wise sums, then across lanes and the tail in order), times w (mode & 2) and plus
 * b (mode & 4), both contiguous.
 */
export const PACK_WAT = `
  (func (export "pack") (param $x i32) (param $K i32) (param $dst i32) (param $step i32) (param $mode i32) (param $eps f32) (param $w i32) (param $b i32)
    (local $p i32) (local $e i32) (local $n4 i32) (local $s v128) (local $v v128) (local $m v128) (local $iv v128) (local $t f32) (local $mean f32) (local $inv f32)
    (local.set $n4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $K) (i32.const -4)) (i32.const 2))))
    (local.set $e (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))))
    (local.set $inv (f32.const 1))
    (if (i32.and (local.get $mode) (i32.const 1)) (then
      (local.set $s (v128.const i32x4 0 0 0 0))
      (local.set $p (local.get $x))
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $n4)))
        (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16))) (br $l)))
      (local.set $t (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
        (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
        (local.set $t (f32.add (local.get $t) (f32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))
      (local.set $mean (f32.div (local.get $t) (f32.convert_i32_u (local.get $K))))
      (local.set $m (f32x4.splat (local.get $mean)))
      (local.set $s (v128.const i32x4 0 0 0 0))
      (local.set $p (local.get $x))
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $n4)))
        (local.set $v (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
        (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16))) (br $l)))
      (local.set $t (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
        (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
        (local.set $t (f32.add (local.get $t) (f32.mul (f32.sub (f32.load (local.get $p)) (local.get $mean)) (f32.sub (f32.load (local.get $p)) (local.get $mean)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l)))
      (local.set $inv (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (local.get $t) (f32.convert_i32_u (local.get $K))) (local.get $eps)))))))
    (local.set $m (f32x4.splat (local.get $mean)))
    (local.set $iv (f32x4.splat (local.get $inv)))
    (local.set $p (local.get $x))
    ${packWrite(true)}
    ${packWrite(false)})`;
