// From a checkpoint and photos to the tutorial's prediction: `vitc run --image` must give the
// probabilities PIL + torchvision + PyTorch give (test/fixtures/import/photos.json, written by
// tools/golden/make_import_fixtures.py), within 2e-3 and with the same top-1, from input tensors
// that are bit-identical to torchvision's.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { vitc, tempDir } from './helpers.js';
import { loadImageBatch } from '../src/image/index.js';
import { decodeImage } from '../src/image/decode.js';
import { readNpy } from '../src/weights/npy.js';
import { loadSpec } from '../src/spec/load.js';

const FX = 'test/fixtures/import';
const fx = (f: string) => join(FX, f);
const PHOTOS = ['chelsea.jpg', 'coffee.jpg', 'astronaut.png', 'rocket.png'].map((f) => fx(`photos/${f}`));

interface Expected { spec: string; images: { image: string; input_sha256: string; probs: number[]; top1: number; line: string }[] }
const EXPECTED = JSON.parse(readFileSync(fx('photos.json'), 'utf8')) as Expected[];
const WEIGHTS: Record<string, string> = { 'flowers.yaml': 'model-cuda.pth', 'flowers-224.yaml': 'flowers-224.pth' };

describe.each(EXPECTED)('$spec on the four photos', (exp) => {
  const spec = fx(exp.spec);
  it('makes input tensors bit-identical to PIL + torchvision (EXIF ignored, and with --exif-rotate)', async () => {
    const s = loadSpec(spec);
    const input = [s.config.in_chans, ...s.config.img_size] as [number, number, number];
    const plain = await loadImageBatch(PHOTOS, { preprocess: s.config.preprocess, input });
    const rotated = await loadImageBatch([PHOTOS[0]!], { preprocess: s.config.preprocess, input, exifRotate: true });
    const per = input[0] * input[1] * input[2];
    const hashes = [...PHOTOS.map((_, i) => plain.data.subarray(i * per, (i + 1) * per)), rotated.data]
      .map((t) => createHash('sha256').update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)).digest('hex'));
    expect(hashes).toEqual(exp.images.map((e) => e.input_sha256));
  });
  it('predicts what PyTorch predicts: probabilities within 2e-3, the same top-1, the tutorial\'s lines', async () => {
    const r = await vitc('run', spec, '--weights', fx(WEIGHTS[exp.spec]!), '--image', ...PHOTOS, '--labels', fx('class_indices.json'), '--json');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { results: { image: string; class: number; top: { class: number; prob: number }[] }[] };
    let maxErr = 0;
    got.results.forEach((res, i) => {
      const want = exp.images[i]!;
      expect(res.image).toBe(PHOTOS[i]);
      expect(res.class).toBe(want.top1);
      for (const t of res.top) maxErr = Math.max(maxErr, Math.abs(t.prob - want.probs[t.class]!));
    });
    expect(maxErr).toBeLessThan(2e-3);
    const text = await vitc('run', spec, '--weights', fx(WEIGHTS[exp.spec]!), '--image', ...PHOTOS, '--labels', fx('labels.txt'), '--top', '0');
    expect(text.stdout.split('\n').slice(0, 4)).toEqual(exp.images.slice(0, 4).map((e, i) => `${PHOTOS[i]}: ${e.line}`));
    expect(text.stderr).toContain(`input: 4 images as one batch: Resize(${exp.spec === 'flowers.yaml' ? 36 : 256}, bilinear), CenterCrop(`);
    const turned = await vitc('run', spec, '--weights', fx(WEIGHTS[exp.spec]!), '--image', PHOTOS[0]!, '--exif-rotate', '--labels', fx('class_indices.json'), '--top', '0');
    expect(turned.stdout.split('\n')[0]).toBe(`${PHOTOS[0]}: ${exp.images[4]!.line}`);
  });
});

describe('many photos', () => {
  it('run 32 to a batch, with the logits of each photo as in one batch of four', async () => {
    const dir = tempDir();
    const photos = Array.from({ length: 40 }, (_, i) => PHOTOS[i % 4]!);
    const [many, four] = [join(dir, 'many.npy'), join(dir, 'four.npy')];
    const r = await vitc('run', fx('flowers.yaml'), '--weights', fx('model.pth'), '--image', ...photos, '--output', many, '--top', '0');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('input: 40 images in batches of 32: ');
    expect((await vitc('run', fx('flowers.yaml'), '--weights', fx('model.pth'), '--image', ...PHOTOS, '--output', four, '--top', '0')).code).toBe(0);
    const a = readNpy(many, readFileSync(many)), b = readNpy(four, readFileSync(four));
    expect(a.shape).toEqual([40, 5]);
    // Photo i is photo i % 4 again, in the first batch of 32 and in the last of 8.
    for (let i = 0; i < 40; i++) for (let c = 0; c < 5; c++) expect(a.data[i * 5 + c]).toBeCloseTo(b.data[(i % 4) * 5 + c]!, 5);
  }, 120_000);
});

describe('class names', () => {
  it('come from the spec\'s labels file when --labels is not given', async () => {
    const dir = tempDir();
    const spec = join(dir, 'labelled.yaml');
    writeFileSync(spec, `extends: ${join(process.cwd(), fx('flowers.yaml'))}\nlabels: ${join(process.cwd(), fx('class_indices.json'))}\n`);
    const r = await vitc('run', spec, '--weights', fx('model.pth'), '--image', PHOTOS[1]!, '--top', '1');
    expect(r.stdout.split('\n')[0]).toBe(`${PHOTOS[1]}: ${EXPECTED[0]!.images[1]!.line}`);
    expect(r.stdout.split('\n')[1]).toMatch(/^ {2}1\. dandelion {2}p=0\.6677 {2}logit=/);
    // A build directory carries them in its manifest, and runs with them as its spec does.
    expect((await vitc('build', spec, '--weights', fx('model.pth'), '-o', join(dir, 'b'))).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'b', 'manifest.json'), 'utf8')).labels).toEqual(['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']);
    const fromDir = await vitc('run', join(dir, 'b'), '--weights', fx('model.pth'), '--image', PHOTOS[1]!, '--top', '1');
    expect(fromDir.stdout.split('\n').slice(0, 2)).toEqual(r.stdout.split('\n').slice(0, 2));
  });
});

describe('image and label errors: one line, exit 1', () => {
  const spec = fx('flowers.yaml');
  const run = (...args: string[]) => vitc('run', spec, '--weights', fx('weights.safetensors'), ...args);
  const one = async (args: string[], line: string) => {
    const r = await run(...args);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', line]);
  };
  it('labels that do not fit the model', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'three.txt'), 'a\nb\nc\n');
    writeFileSync(join(dir, 'blank.txt'), 'a\nb\n\nc\nd\n');
    writeFileSync(join(dir, 'trailing.txt'), 'a\nb\nc\nd\ne\n\n \n');
    writeFileSync(join(dir, 'gap.json'), '{"0": "a", "2": "c"}');
    writeFileSync(join(dir, 'bad.json'), '{"0": "a",');
    writeFileSync(join(dir, 'far.json'), '{"0": "a", "1": "b", "2": "c", "3": "d", "999999999": "e"}');
    writeFileSync(join(dir, 'twice.json'), '{"0": "a", "1": "b", "2": "c", "3": "d", "00": "e"}');
    await one(['--image', PHOTOS[0]!, '--labels', join(dir, 'three.txt')], `${join(dir, 'three.txt')}: error: 3 class names, but the model has 5 classes (give one name per class)`);
    // A blank line in the middle would make class 2 the name ''; blank lines at the end are fine.
    await one(['--image', PHOTOS[0]!, '--labels', join(dir, 'blank.txt')], `${join(dir, 'blank.txt')}:3:1: error: a blank line: class 2 would have no name (each line names one class, in class order: remove the line, or name the class)`);
    const trailing = await run('--image', PHOTOS[0]!, '--labels', join(dir, 'trailing.txt'), '--top', '0');
    expect([trailing.code, trailing.stdout]).toEqual([0, expect.stringMatching(/^\S+chelsea\.jpg: class: [a-e]   prob: /)]);
    await one(['--image', PHOTOS[0]!, '--labels', join(dir, 'gap.json')], `${join(dir, 'gap.json')}: error: no name for class 1`);
    expect((await run('--image', PHOTOS[0]!, '--labels', join(dir, 'bad.json'))).stderr).toMatch(/bad\.json: error: not valid JSON: /);
    // An index past the model's classes is named (it used to size an array by it: out of memory).
    await one(['--image', PHOTOS[0]!, '--labels', join(dir, 'far.json')], `${join(dir, 'far.json')}: error: entry "999999999": class 999999999, but the model has 5 classes (0 to 4) (is this the labels file of another model?)`);
    await one(['--image', PHOTOS[0]!, '--labels', join(dir, 'twice.json')], `${join(dir, 'twice.json')}: error: entry "00" names class 0 again (it is "a" already)`);
  });
  it('files that are not images, and images vitc cannot read exactly as Pillow does', async () => {
    const dir = tempDir();
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 60 } } }).toColourspace('cmyk').jpeg().toFile(join(dir, 'cmyk.jpg'));
    await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 200, g: 30, b: 60, alpha: 0 } } }).gif().toFile(join(dir, 'clear.gif'));
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 60 } } }).toColourspace('cmyk').tiff().toFile(join(dir, 'cmyk.tiff'));
    writeFileSync(join(dir, 'empty.jpg'), '');
    const bmp = Buffer.alloc(58);
    bmp.write('BM'); bmp.writeUInt32LE(58, 2); bmp.writeUInt32LE(54, 10); bmp.writeUInt32LE(40, 14); bmp.writeInt32LE(1, 18); bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26); bmp.writeUInt16LE(24, 28); bmp.writeUInt32LE(4, 34);
    writeFileSync(join(dir, 'tiny.bmp'), bmp);
    // A PNG header of 13378 x 13378 pixels, one row past Pillow's limit (2 x 89,478,485 pixels), with no pixel data: refused from the header.
    const chunk = (type: string, data: Buffer) => {
      const b = Buffer.alloc(12 + data.length);
      b.writeUInt32BE(data.length, 0); b.write(type, 4, 'latin1'); data.copy(b, 8);
      b.writeUInt32BE(zlib.crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
      return b;
    };
    const ihdr = Buffer.from([0, 0, 0x34, 0x42, 0, 0, 0x34, 0x42, 8, 2, 0, 0, 0]);
    writeFileSync(join(dir, 'bomb.png'), Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]));
    await one(['--image', join(dir, 'bomb.png')], `${join(dir, 'bomb.png')}: error: the image is 13378x13378, 178,970,884 pixels: more than the 178,956,970 Pillow opens (it raises DecompressionBombError above that) (resize it first; Pillow opens it once Image.MAX_IMAGE_PIXELS is raised)`);
    await one(['--image', join(dir, 'cmyk.jpg')], `${join(dir, 'cmyk.jpg')}: error: CMYK JPEGs are not supported: Pillow and libvips turn CMYK into RGB differently (save the photo as RGB first)`);
    await one(['--image', join(dir, 'cmyk.tiff')], `${join(dir, 'cmyk.tiff')}: error: CMYK TIFF images are not supported: Pillow and libvips turn CMYK into RGB differently (save the photo as RGB first)`);
    await one(['--image', join(dir, 'empty.jpg')], `${join(dir, 'empty.jpg')}: error: the file is empty, not an image`);
    // An 8x6 GIF whose one frame, 4x3 at 2,1, leaves the rest to the decoder (Pillow 9 shows palette colour 0 there).
    writeFileSync(join(dir, 'part.gif'), Buffer.from('47494638396108000600800000c81e3c0a141e2c02000100040003000002084c983061c2844901003b', 'hex'));
    await one(['--image', join(dir, 'part.gif')], `${join(dir, 'part.gif')}: error: this GIF's first frame is 4x3 at 2,1 on its 8x6 screen: Pillow and libvips make different images of a frame that does not fill the screen exactly (save the image as PNG)`);
    await one(['--image', join(dir, 'clear.gif')], `${join(dir, 'clear.gif')}: error: this GIF has transparent pixels, whose colour libvips does not keep (Pillow's convert('RGB') shows the palette colour there) (save the image as PNG)`);
    // Formats Pillow opens and libvips does not are named, with the way out.
    writeFileSync(join(dir, 'tiny.ppm'), Buffer.concat([Buffer.from('P6\n1 1\n255\n'), Buffer.from([200, 30, 60])]));
    for (const [f, format] of [['tiny.bmp', 'BMP'], ['tiny.ppm', 'PNM (PBM, PGM, PPM)']]) {
      await one(['--image', join(dir, f!)], `${join(dir, f!)}: error: ${format} images are not supported: Pillow opens them, but libvips, which decodes for vitc, does not (save the photo as PNG; vitc reads JPEG, PNG, WebP, TIFF and GIF)`);
    }
    // Cut short by a copy: the same line each time (libvips' own text depends on what else decodes).
    const photo = readFileSync(PHOTOS[0]!);
    writeFileSync(join(dir, 'cut.jpg'), photo.subarray(0, photo.length >> 1));
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    writeFileSync(join(dir, 'cut.png'), png.subarray(0, png.length >> 1));
    await one(['--image', join(dir, 'cut.jpg')], `${join(dir, 'cut.jpg')}: error: cannot decode the image: the file is truncated (it ends before the image does, with no end-of-image marker) (copy or download it again)`);
    await one(['--image', join(dir, 'cut.png')], `${join(dir, 'cut.png')}: error: cannot decode the image: the file is truncated (it ends before the image does, with no IEND chunk) (copy or download it again)`);
    await one(['--image', '/dev/null'], '/dev/null: error: cannot read image: it is a character device, not a regular file');
    await one(['--image', fx('labels.txt')], `test/fixtures/import/labels.txt: error: not an image vitc can read (unsupported image format) (vitc reads JPEG, PNG, WebP, TIFF and GIF)`);
    await one(['--image', fx('photos/nope.jpg')], 'test/fixtures/import/photos/nope.jpg: error: cannot read image: no such file');
    await one(['--image', `${fx('photos')}/`], 'test/fixtures/import/photos/: error: cannot read image: is a directory (give the images in it: --image test/fixtures/import/photos/*)');
  });
  it('an image Pillow reads with a DecompressionBombWarning is read, with a note that says so', async () => {
    // 9460 x 9459 pixels: 3,655 more than Image.MAX_IMAGE_PIXELS (89,478,485), half of the limit above which vitc refuses.
    const bytes = await sharp({ create: { width: 9460, height: 9459, channels: 3, background: { r: 30, g: 30, b: 30 } } }).toColourspace('b-w').png({ compressionLevel: 1 }).toBuffer();
    const { image, notes } = await decodeImage({ name: 'big.png', bytes }, { mode: 'RGB' });
    expect([image.width, image.height, image.data[3 * 12345 + 2]]).toEqual([9460, 9459, 30]);
    expect(notes).toEqual(["big.png: 9460x9459, 89,482,140 pixels: more than Pillow's Image.MAX_IMAGE_PIXELS (89,478,485), where its Image.open warns DecompressionBombWarning and reads the image all the same, as vitc does"]);
  }, 60_000);
  it('inputs that cannot go together', async () => {
    await one(['--image', PHOTOS[0]!, '--input', fx('input.npy')], 'error: give --image or --input, not both');
    await one(['--image', PHOTOS[0]!, '--batch', '2'], 'error: --batch sets the size of the synthetic input; with --image or --input the batch is what they hold');
    await one(['--exif-rotate'], 'error: --exif-rotate applies to --image');
  });
  it('a spec whose crop is not the model\'s input size', async () => {
    const dir = tempDir();
    const bad = join(dir, 'crop.yaml');
    writeFileSync(bad, `extends: ${join(process.cwd(), spec)}\npreprocess:\n  crop: 30\n`);
    const r = await vitc('run', bad, '--image', PHOTOS[0]!);
    expect([r.code, r.stderr]).toEqual([1, `${bad}:3:9: error: preprocess.crop is 30, but the model takes 32x32 images (set crop: 32, or img_size: 30)`]);
  });
});
