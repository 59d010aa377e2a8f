// Elementwise ops: activations and math on one tensor, arithmetic on two with numpy broadcasting.
import { defineOp, type OpDecl } from '../op.js';
import { broadcastShapes, fmtType, shapeCheck, tensor } from '../types.js';

type NoAttrs = Record<string, never>;

function unary(name: string, doc: string): OpDecl<NoAttrs> {
  return defineOp<NoAttrs>({ name, kind: 'primitive', arity: 1, fusion: 'elementwise', doc, infer: ([x]) => x! });
}

function binary(name: string, doc: string, commutative = false): OpDecl<NoAttrs> {
  return defineOp<NoAttrs>({
    name, kind: 'primitive', arity: 2, fusion: 'broadcast', commutative, doc,
    infer: ([a, b]) => {
      shapeCheck(a!.dtype === b!.dtype, () => `${name} operands have different dtypes: ${fmtType(a!)} and ${fmtType(b!)}`);
      return tensor(broadcastShapes(a!.shape, b!.shape), a!.dtype);
    },
  });
}

export const add = binary('add', 'a + b, broadcasting.', true);
export const sub = binary('sub', 'a - b, broadcasting.');
export const mul = binary('mul', 'a * b, broadcasting.', true);
export const div = binary('div', 'a / b, broadcasting.');

export const gelu = unary('gelu', 'Exact GELU: x * (1 + erf(x / sqrt 2)) / 2.');
export const gelu_tanh = unary('gelu_tanh', 'tanh-approximated GELU: x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.');
export const relu = unary('relu', 'max(x, 0).');
export const silu = unary('silu', 'x * sigmoid(x).');
export const sigmoid = unary('sigmoid', '1 / (1 + exp(-x)).');
export const tanh = unary('tanh', 'Hyperbolic tangent.');
export const exp = unary('exp', 'e^x.');
export const log = unary('log', 'Natural logarithm.');
export const sqrt = unary('sqrt', 'Square root.');
export const neg = unary('neg', '-x.');
