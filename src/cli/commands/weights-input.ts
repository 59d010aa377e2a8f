// --weights and --key for the commands that take weights: any format vitc imports, checked against
// the model it is for (pos_embed resampled, a mismatch named by its spec key), notes returned as lines.
import { basename } from 'node:path';
import { fail, formatDiagnostic } from '../../diag/diagnostic.js';
import { importWeights, type ExpectedModel } from '../../import/index.js';
import { ttyProgress } from '../../util/progress.js';
import { str, type OptionSpec, type Parsed } from '../args.js';

export const WEIGHTS_OPTIONS: Record<string, OptionSpec> = {
  weights: { type: 'string' },
  key: { type: 'string' },
};

/** The help lines of --weights (with `more` lines of the command's own) and --key, their descriptions starting at column `col`. */
export function weightsHelp(col: number, more: readonly string[] = []): string {
  const opt = (flag: string, lines: string[]) => lines.map((l, i) => `${i === 0 ? `  ${flag}`.padEnd(col) : ' '.repeat(col)}${l}`).join('\n');
  return [
    opt('--weights W', ['weights: safetensors, PyTorch .pth/.pt (torch.save; read without running any code',
      'from it) or NumPy .npz, with timm, Hugging Face, JAX or torchvision names (mapped to',
      "timm's); pos_embed is resampled for another img_size. See docs/from-pytorch.md", ...more]),
    opt('--key NAME', ['the entry of a wrapped checkpoint that holds the state dict, or a path',
      'of nested keys such as ckpt.model (default: found by name: state_dict,',
      'model_state_dict, model, ...)']),
  ].join('\n');
}

export interface WeightsInput {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Whether the file is not itself safetensors with timm names (a model.mjs could not load it as is). */
  readonly rewritten: boolean;
  /** Formatted note lines (what was mapped, resampled, left out). */
  readonly notes: readonly string[];
}

/** The --weights file imported for `model` (undefined when --weights is not given). */
export async function weightsInput(p: Parsed, model: () => ExpectedModel): Promise<WeightsInput | undefined> {
  const file = str(p, 'weights');
  const key = str(p, 'key');
  if (file === undefined) {
    if (key !== undefined) fail('cli/usage', '--key needs --weights');
    return undefined;
  }
  const imported = await importWeights(file, { key, model: model(), progress: ttyProgress(`reading ${basename(file)}`) });
  return { file, bytes: imported.bytes, rewritten: imported.rewritten, notes: imported.notes.map(formatDiagnostic) };
}
