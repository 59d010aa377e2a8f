// The batch `vitc run` feeds the model: photos (--image, preprocessed as the spec says), a float32
// .npy tensor (--input), or a synthetic sample image; and the class names to print with it.
import { fail, fileSpan } from '../../diag/diagnostic.js';
import type { Manifest } from '../../backends/manifest.js';
import { describePlan, loadImageBatch, readLabels } from '../../image/index.js';
import { imageFormatOf } from '../../image/decode.js';
import { checkBatch, sampleInput } from '../../runner.js';
import { displayPath, type Spec } from '../../spec/load.js';
import { readNpy } from '../../weights/npy.js';
import { isDirectory, readRegularFile } from '../../io/files.js';
import { MAX_TENSOR_ELEMENTS } from '../../limits.js';
import { flag, intOption, str, type Parsed } from '../args.js';

/** Photos run in batches of at most this many: the model's activations stay bounded for a folder of photos, and a terminal shows progress between them. */
export const IMAGE_BATCH = 32;

export interface RunInput {
  readonly data: Float32Array;
  readonly batch: number;
  /** The image files, in batch order (image runs only). */
  readonly images?: readonly string[];
  /** The preprocessing applied, as torchvision would write it (image runs only). */
  readonly preprocess?: string;
  /** Lines for stderr before the run. */
  readonly info: readonly string[];
}

/** --image values plus the file names that follow them (`--image a.jpg b.png`). */
export function imageArgs(p: Parsed): string[] {
  const v = p.values.image;
  const given = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return given.length ? [...given, ...p.positionals.slice(1)] : [];
}

export async function runInput(p: Parsed, m: Manifest, spec: Spec | undefined): Promise<RunInput> {
  const images = imageArgs(p);
  const inputFile = str(p, 'input');
  const [, C, H, W] = m.inputs[0]!.shape as [string, number, number, number];
  if (images.length && inputFile) fail('cli/usage', 'give --image or --input, not both');
  if ((images.length || inputFile) && str(p, 'batch') !== undefined) fail('cli/usage', '--batch sets the size of the synthetic input; with --image or --input the batch is what they hold');
  if (flag(p, 'exif-rotate') && !images.length) fail('cli/usage', '--exif-rotate applies to --image');
  if (images.length) {
    // A folder of photos is given by its files (the shell expands photos/*), not by its name.
    for (const f of images) if (isDirectory(f)) fail('io/unreadable', 'cannot read image: is a directory', fileSpan(f), `give the images in it: --image ${f.replace(/\/+$/, '')}/*`);
    // A batch of the photos runs at a time: any number of photos fits the model's largest batch.
    checkBatch(m, Math.min(images.length, IMAGE_BATCH));
    const b = await loadImageBatch(images, {
      preprocess: m.preprocess, input: [C, H, W], exifRotate: flag(p, 'exif-rotate'),
      spanOf: spec ? (key) => spec.spans.value(`/${key}`) : undefined,
    });
    const preprocess = describePlan(b.plan);
    return { data: b.data, batch: images.length, images, preprocess, info: [...b.notes, `input: ${images.length} image${images.length > 1 ? 's' : ''} ${images.length > IMAGE_BATCH ? `in batches of ${IMAGE_BATCH}` : 'as one batch'}: ${preprocess}`] };
  }
  if (inputFile) {
    // A float32 tensor of at most MAX_TENSOR_ELEMENTS, plus a header: a larger file cannot be an input.
    const bytes = readRegularFile(inputFile, 'input', { maxBytes: MAX_TENSOR_ELEMENTS * 4 + 2 ** 20 });
    const format = imageFormatOf(bytes);
    if (format) fail('run/input-image', `this is a ${format} image; --input takes a float32 .npy tensor (N, ${C}, ${H}, ${W})`, fileSpan(inputFile), `for a photo, use --image ${displayPath(inputFile)}`);
    const arr = readNpy(inputFile, bytes);
    const want = [C, H, W];
    if (arr.shape.length !== 4 || arr.shape.slice(1).some((d, i) => d !== want[i]) || arr.shape[0] === 0) {
      fail('run/input-shape', `input has shape (${arr.shape.join(', ')}); ${m.spec.name} expects (N, ${want.join(', ')}) float32 NCHW`, fileSpan(inputFile));
    }
    checkBatch(m, arr.shape[0]!, fileSpan(inputFile));
    return { data: arr.data, batch: arr.shape[0]!, info: [] };
  }
  const batch = intOption('run', p, 'batch', 1, 1);
  checkBatch(m, batch);
  return {
    data: sampleInput(m, batch),
    batch,
    info: [`input: a synthetic ${H}x${W} sample image${batch > 1 ? ` (batch ${batch})` : ''}, normalized with the spec's mean/std`],
  };
}

/** Class names from --labels, else the build's (its spec's `labels` file); checked against the class count. */
export function runLabels(p: Parsed, m: Manifest): string[] | undefined {
  const given = str(p, 'labels');
  return given !== undefined ? readLabels(given, m.outputs[0]!.shape[1] as number) : m.labels && [...m.labels];
}
