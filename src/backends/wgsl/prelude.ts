// The WGSL prelude every kernel is compiled with: the four bindings, the storage type S with its
// store conversion `st`, and the math the model language's unary functions need (WGSL has no erf).
// The host picks the prelude at load: `native` stores S as the build's storage; `emulated` (fp16
// builds on adapters without shader-f16) stores f32 rounded to f16 after every kernel.
import type { Storage } from '../../kernel/types.js';

/** Uniform values per kernel (batch + operand offsets): 16 vec4<i32>, one 256-byte slot. */
export const UNIFORM_VALUES = 64;

const MATH = `
// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn vitc_erf(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return select(-y, y, x >= 0.0);
}
fn vitc_tanh(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
fn vitc_gelu(x: f32) -> f32 { return 0.5 * x * (1.0 + vitc_erf(x * 0.7071067811865476)); }
fn vitc_gelu_tanh(x: f32) -> f32 { return 0.5 * x * (1.0 + vitc_tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
fn vitc_relu(x: f32) -> f32 { return max(x, 0.0); }
fn vitc_sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn vitc_silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
fn vitc_exp(x: f32) -> f32 { return exp(x); }
fn vitc_log(x: f32) -> f32 { return log(x); }
fn vitc_sqrt(x: f32) -> f32 { return sqrt(x); }
fn vitc_neg(x: f32) -> f32 { return -x; }
`;

function bindings(s: 'f32' | 'f16'): string {
  return [
    `alias S = ${s};`,
    '@group(0) @binding(0) var<storage, read> W: array<S>;',
    '@group(0) @binding(1) var<storage, read_write> A: array<S>;',
    '@group(0) @binding(2) var<storage, read_write> IO: array<f32>;',
    `@group(0) @binding(3) var<uniform> P: array<vec4<i32>, ${UNIFORM_VALUES / 4}>;`,
  ].join('\n');
}

export interface Preludes {
  readonly native: string;
  readonly emulated?: string;
}

export function preludes(storage: Storage): Preludes {
  const head = (what: string) => `// vitc prelude: ${what}\n`;
  switch (storage) {
    case 'f32':
      return { native: `${head('f32 storage')}${bindings('f32')}\nfn st(x: f32) -> S { return x; }\n${MATH}\n` };
    case 'f16':
      return {
        native: `${head('f16 storage (shader-f16)')}enable f16;\n${bindings('f16')}\nfn st(x: f32) -> S { return S(x); }\n${MATH}\n`,
        emulated: `${head('f16 values in f32 storage (no shader-f16)')}${bindings('f32')}\nfn st(x: f32) -> S { return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x; }\n${MATH}\n`,
      };
    case 'bf16':
      throw new Error('the wgsl target has no bf16 storage');
  }
}
