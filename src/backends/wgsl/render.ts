// KernelProgram -> WGSL: every kernel becomes one shader (or, for GEMMs, a register-tiled and a
// workgroup-tiled one), identical shader texts are kept once (operand offsets live in uniforms, so
// the 12 blocks of a ViT-B share their shaders), and the host gets a table of what to launch.
import { fail } from '../../diag/diagnostic.js';
import type { Kernel, KernelProgram } from '../../kernel/types.js';
import { isCommonKind, renderCommonKernel, type Operand } from '../cstyle/index.js';
import { attentionGeometry, attentionLanes, attentionRegister, attentionRegisterItems, attentionSubgroup, attentionWorkgroup } from './attention.js';
import { wgslDialect, type WgslKernelSource } from './dialect.js';
import { gemmGeometry, gemmRegister, gemmWorkgroup, registerItems } from './gemm.js';
import { place, type Pack } from './place.js';
import { preludes, UNIFORM_VALUES } from './prelude.js';
import type { HostKernel, HostOperand, HostProgram, HostVariant } from './runtime/program.js';

export interface Rendered {
  readonly host: Omit<HostProgram, 'transforms'>;
  /** Shader files for the build directory: the native prelude plus each distinct kernel. */
  readonly files: readonly { readonly path: string; readonly text: string }[];
}

function label(k: Kernel): string {
  return `k${k.id} ${k.kind}${k.scope ? ` ${k.scope}` : ''}`;
}

export function renderProgram(p: KernelProgram): Rendered {
  if (p.precision.storage === 'bf16') fail('wgsl/precision', 'the wgsl target has no bf16 storage', undefined, 'use --precision fp32 or fp16');
  const d = wgslDialect(p);
  const pl = place(p);
  const shaders: string[] = [];
  const names: string[] = [];
  const byText = new Map<string, number>();
  const shaderOf = (src: WgslKernelSource, kind: string): number => {
    const text = d.kernel(src);
    let i = byText.get(text);
    if (i === undefined) {
      i = shaders.push(text) - 1;
      byText.set(text, i);
      names.push(`${String(i).padStart(2, '0')}-${kind}`);
    }
    return i;
  };
  const hostOperands = (k: Kernel, ops: readonly (Operand & { packed?: Pack })[]): HostOperand[] => {
    if (ops.length + 1 > UNIFORM_VALUES) fail('wgsl/operands', `kernel ${label(k)} has ${ops.length} operands; the wgsl target passes at most ${UNIFORM_VALUES - 1}`, k.span);
    return ops.map((o) => (o.packed ? { space: 'W', offset: o.offset } : pl.operand(o.buf, o.offset)));
  };
  const kernels: HostKernel[] = p.kernels.map((k): HostKernel => {
    if (k.kind === 'gemm') {
      const pack = pl.pack(k);
      const reg = gemmRegister(d, p, k, pack, 1), sub = gemmRegister(d, p, k, pack, 4), wg = gemmWorkgroup(d, p, k, pack);
      const geo = gemmGeometry(k);
      const register: HostVariant = { shader: shaderOf(reg, 'gemm-register'), items: registerItems(k, 1), per: reg.workgroup };
      const subgroup: HostVariant = { shader: shaderOf(sub, 'gemm-subgroup'), items: registerItems(k, 4), per: sub.workgroup };
      const workgroup: HostVariant = {
        shader: shaderOf(wg, 'gemm-workgroup'), items: [[geo.G, 1], [geo.M, 'TILE_M'], [{ b: 0, c: geo.N }, 'TILE_N']], per: 1,
        tiles: { kind: 'gemm', M: geo.M, N: geo.N },
      };
      return { label: label(k), operands: hostOperands(k, reg.operands), variants: { register, subgroup, workgroup } };
    }
    if (k.kind === 'attention') {
      const reg = attentionRegister(d, p, k), wg = attentionWorkgroup(d, p, k);
      const geo = attentionGeometry(k);
      const register: HostVariant = { shader: shaderOf(reg, 'attention-register'), items: attentionRegisterItems(k, 1), per: reg.workgroup };
      const sub = attentionLanes(k) ? attentionSubgroup(d, p, k) : undefined;
      const subgroup: HostVariant | undefined = sub && { shader: shaderOf(sub, 'attention-subgroup'), items: attentionRegisterItems(k, 4), per: sub.workgroup };
      const workgroup: HostVariant = {
        shader: shaderOf(wg, 'attention-workgroup'), items: [[geo.G, 1], [{ b: 0, c: geo.T }, 'QB']], per: 1, tiles: { kind: 'attention', T: geo.T, d: geo.d, dv: geo.dv },
      };
      return { label: label(k), operands: hostOperands(k, reg.operands), variants: { register, ...(subgroup ? { subgroup } : {}), workgroup } };
    }
    if (!isCommonKind(k)) throw new Error(`unhandled kernel kind ${(k as Kernel).kind}`);
    const variant = (src: ReturnType<typeof renderCommonKernel>, kind: string): HostVariant => ({ shader: shaderOf(src, kind), items: [[src.grid.items, 1]], per: src.grid.per });
    if (k.kind === 'layernorm' || k.kind === 'softmax') {
      // Rows reduced by a workgroup (GPUs), or a row per invocation without barriers (CPU adapters).
      const tree = renderCommonKernel(d, p, k, 'main'), serial = renderCommonKernel(d, p, k, 'main', true);
      return { label: label(k), operands: hostOperands(k, tree.operands), variants: { register: variant(serial, `${k.kind}-rows`), workgroup: variant(tree, k.kind) } };
    }
    const src = renderCommonKernel(d, p, k, 'main');
    return { label: label(k), operands: hostOperands(k, src.operands), variants: { any: variant(src, k.kind) } };
  });
  const pre = preludes(p.precision.storage);
  const host: Omit<HostProgram, 'transforms'> = {
    name: p.name,
    storage: p.precision.storage === 'f16' ? 'f16' : 'f32',
    prelude: pre,
    shaders,
    kernels,
    weightElems: pl.weightElems,
    segments: pl.segments,
    arena: pl.arena,
    inputPerSample: pl.inputPerSample,
    outputPerSample: pl.outputPerSample,
  };
  return {
    host,
    files: [
      { path: 'shaders/prelude.wgsl', text: pre.native },
      ...shaders.map((s, i) => ({ path: `shaders/${names[i]}.wgsl`, text: s })),
    ],
  };
}
