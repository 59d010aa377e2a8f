// Photos to a model's input batch, as the tutorial's PIL + torchvision predict script makes it:
// Image.open(path).convert('RGB'), the spec's preprocess steps, one [N, C, H, W] float32 batch.
// A library for `vitc run --image` and for whatever else needs the same tensors (fine-tuning).
import { fail, type Span } from '../diag/diagnostic.js';
import { decodeImage, type Image8, type ImageSource } from './decode.js';
import { planPreprocess, resizeAndCrop, toNormalizedTensor, type Plan, type PreprocessConfig } from './transforms.js';

export interface BatchOptions {
  readonly preprocess: PreprocessConfig;
  /** The model input [C, H, W]; C is 3 (RGB) or 1 (Pillow's "L"). */
  readonly input: readonly [number, number, number];
  readonly exifRotate?: boolean;
  /** Where the spec sets a key (for preprocess errors), when a spec is at hand. */
  readonly spanOf?: (key: string) => Span | undefined;
}

export interface Batch {
  readonly data: Float32Array;
  readonly plan: Plan;
  readonly notes: readonly string[];
}

/** The 8-bit image a photo becomes before ToTensor: decoded, resized, cropped. */
export async function preparedImage(src: ImageSource, plan: Plan, channels: number, exifRotate?: boolean): Promise<{ image: Image8; notes: readonly string[] }> {
  const decoded = await decodeImage(src, { mode: channels === 1 ? 'L' : 'RGB', exifRotate });
  return { image: resizeAndCrop(decoded.image, plan), notes: decoded.notes };
}

/** Photos (paths or encoded bytes) to one [N, C, H, W] float32 batch. */
export async function loadImageBatch(files: readonly ImageSource[], options: BatchOptions): Promise<Batch> {
  const [c, h, w] = options.input;
  if (c !== 3 && c !== 1) fail('image/channels', `the model takes ${c}-channel input; images become RGB (3 channels) or grayscale (1)`, options.spanOf?.('in_chans'));
  const plan = planPreprocess(options.preprocess, [h, w], c, options.spanOf);
  const per = c * h * w;
  const data = new Float32Array(files.length * per);
  const notes: string[] = [];
  for (const [i, file] of files.entries()) {
    const { image, notes: n } = await preparedImage(file, plan, c, options.exifRotate);
    notes.push(...n);
    toNormalizedTensor(image, plan.mean, plan.std, data, i * per);
  }
  return { data, plan, notes };
}

export { decodeImage, sourceName, type Image8, type ImageSource } from './decode.js';
export { resize, type Filter } from './resample.js';
export { describePlan, planPreprocess, type Plan, type PreprocessConfig } from './transforms.js';
export { readLabels } from './labels.js';
