// `--target` looks a backend up here.
import { fail } from '../diag/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js/emit.js';
import { onnxBackend } from './onnx/index.js';

export const BACKENDS: Readonly<Record<string, Backend>> = {
  js: jsBackend,
  onnx: onnxBackend,
};

export function getBackend(name: string): Backend {
  const b = BACKENDS[name];
  if (!b) fail('cli/target', `unknown target "${name}"`, undefined, didYouMean(name, Object.keys(BACKENDS)) ?? `targets: ${Object.keys(BACKENDS).join(', ')}`);
  return b;
}
