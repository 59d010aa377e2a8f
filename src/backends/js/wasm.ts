// The JS target's WebAssembly SIMD128 module, written here as WAT and assembled with wabt at build
// time; the bytes are inlined (base64) into model.mjs so the module stays standalone. One module per
// program: the GEMM micro-kernel below, A-panel packing (with LayerNorm), the attention softmax and
// each GEMM's epilogue (wasm-simd.ts).
//
// gemm(a, b, c, mp, np, kc, K, ldc, accumulate): C[4i + r, 8j + s] (+)= Σ_{k<kc} Ap[i][k][r] · Bp[j][k][s]
// for i < mp, j < np, over panels packed k-major (A: 4 rows per panel, B: 8 columns per panel, both
// zero-padded, panels K deep), with C rows ldc floats apart. Each 4×8 tile accumulates in eight f32x4
// registers over k in order, with a separate multiply and add; with `accumulate` it starts from C, so
// blocking K into chunks (to keep a B panel chunk in L1) adds the same f32 terms in the same order.
// Every element is thus the same f32 sum however the work is split.
import wabtInit from 'wabt';
import type { KernelProgram } from '../../kernel/types.js';
import { epilogueWat, PACK_WAT, SOFTMAX_WAT, VEC_MATH_WAT } from './wasm-simd.js';

export const MR = 4;
export const NR = 8;

function gemmWat(): string {
  const acc = (r: number, h: number) => `$c${r}${h}`;
  const rows = [0, 1, 2, 3];
  // One k step: B's 8 columns at bp + bo, A's 4 rows splatted from ap + ao.
  const step = (ao: number, bo: number) => `
          (local.set $b0 (v128.load offset=${bo} (local.get $bp)))
          (local.set $b1 (v128.load offset=${bo + 16} (local.get $bp)))` + rows.map((r) => `
          (local.set $av (v128.load32_splat offset=${ao + r * 4} (local.get $ap)))
          (local.set ${acc(r, 0)} (f32x4.add (local.get ${acc(r, 0)}) (f32x4.mul (local.get $av) (local.get $b0))))
          (local.set ${acc(r, 1)} (f32x4.add (local.get ${acc(r, 1)}) (f32x4.mul (local.get $av) (local.get $b1))))`).join('');
  const zero = rows.map((r) => `(local.set ${acc(r, 0)} (v128.const i32x4 0 0 0 0)) (local.set ${acc(r, 1)} (v128.const i32x4 0 0 0 0))`).join('\n          ');
  const load = rows.map((r) => `(local.set ${acc(r, 0)} (v128.load offset=0 (i32.add (local.get $cp) (i32.mul (local.get $ldb) (i32.const ${r})))))
          (local.set ${acc(r, 1)} (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldb) (i32.const ${r})))))`).join('\n          ');
  const store = rows.map((r) => `
        (v128.store offset=0 (local.get $cp) (local.get ${acc(r, 0)}))
        (v128.store offset=16 (local.get $cp) (local.get ${acc(r, 1)}))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldb)))`).join('');
  return `
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $mp i32) (param $np i32) (param $kc i32) (param $K i32) (param $ldc i32) (param $accum i32)
    (local $i i32) (local $j i32) (local $k i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $ldb i32) (local $bj i32)
    (local $av v128) (local $b0 v128) (local $b1 v128)
    ${rows.map((r) => `(local ${acc(r, 0)} v128) (local ${acc(r, 1)} v128)`).join(' ')}
    (local.set $ldb (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $jd (loop $jl
      (br_if $jd (i32.ge_u (local.get $j) (local.get $np)))
      (local.set $bj (i32.add (local.get $b) (i32.mul (local.get $j) (i32.shl (local.get $K) (i32.const 5)))))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $mp)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 3))) (i32.const 2))))
        (if (local.get $accum) (then
          ${load})
        (else
          ${zero}))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (i32.shl (local.get $K) (i32.const 4)))))
        (local.set $bp (local.get $bj))
        (local.set $k (local.get $kc))
        (if (local.get $k) (then (loop $kl${step(0, 0)}
          (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
          (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $kl (local.get $k)))))${store}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jl))))`;
}

/** The whole module's text, over an imported memory (shared for threads). */
export function programWat(p: KernelProgram, shared: boolean): string {
  const epilogues = p.kernels.map(epilogueWat).filter((w): w is string => w !== null);
  return `(module
  (import "env" "mem" (memory 1 65536${shared ? ' shared' : ''}))${gemmWat()}${VEC_MATH_WAT}${SOFTMAX_WAT}${PACK_WAT}${epilogues.join('')})`;
}

/** The program's module, for a shared memory (threads) and a plain one. */
export async function programWasm(p: KernelProgram): Promise<{ shared: Uint8Array; plain: Uint8Array }> {
  const wabt = await wabtInit();
  const assemble = (wat: string) => {
    const m = wabt.parseWat('vitc.wat', wat, { simd: true, threads: true });
    try {
      const bytes = new Uint8Array(m.toBinary({ log: false, write_debug_names: false }).buffer);
      // wabt's validator refuses shared memories even with threads on; the engine validates instead.
      if (!WebAssembly.validate(bytes)) throw new Error('vitc: the generated WebAssembly module does not validate');
      return bytes;
    } finally {
      m.destroy();
    }
  };
  return { shared: assemble(programWat(p, true)), plain: assemble(programWat(p, false)) };
}
