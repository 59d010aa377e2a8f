// Decoding an image file to 8-bit pixels exactly as Pillow's Image.open(path).convert('RGB') gives
// them (or .convert('L') for one-channel models). libvips (through sharp) decodes JPEGs with
// libjpeg-turbo bit-identically to Pillow when its ICC colour management is off; the remaining
// differences between the two libraries are handled here or refused with a clear message.
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { fail, fileSpan } from '../diag/diagnostic.js';
import { readRegularFile } from '../io/files.js';
import { isNpy } from '../weights/npy.js';

/** Pixels, row-major, `channels` interleaved bytes per pixel. */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export interface DecodeOptions {
  /** Apply the EXIF orientation (Pillow's ImageOps.exif_transpose); Image.open ignores it. */
  readonly exifRotate?: boolean;
  /** 'RGB' (3 channels) or 'L' (1 channel, ITU-R 601-2 luma as Pillow computes it). */
  readonly mode: 'RGB' | 'L';
}

/** Formats both Pillow and libvips read (libvips has no BMP; Pillow has no AVIF/HEIF/SVG/PDF without plugins). */
const FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif']);

/** Pillow's Image.MAX_IMAGE_PIXELS: above it, Image.open warns (DecompressionBombWarning) and reads the image. */
const WARN_PIXELS = 89_478_485;
/**
 * The most pixels an image may have: Pillow's Image.open raises DecompressionBombError above twice
 * Image.MAX_IMAGE_PIXELS, so the tutorial's predict script stops there too. It is below libvips' own
 * limit (268 megapixels), whose message would not say how large the image is.
 */
const MAX_PIXELS = 2 * WARN_PIXELS;

/** Whether `bytes` start with the bytes `magic`. */
const startsWith = (bytes: Uint8Array, ...magic: number[]) => magic.every((v, i) => bytes[i] === v);

/** The image format `bytes` start like (by their magic bytes), or undefined: for telling a user who gave a photo where a tensor belongs. */
export function imageFormatOf(bytes: Uint8Array): string | undefined {
  const starts = (...m: number[]) => startsWith(bytes, ...m);
  const ascii = (at: number, text: string) => [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'PNG';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (ascii(0, 'GIF8')) return 'GIF';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  return undefined;
}

/**
 * Formats Pillow opens but libvips (so vitc) does not, by their magic bytes: a photo in one of them
 * is named as such, with the way out, rather than called "not an image".
 */
function pillowOnlyFormatOf(bytes: Uint8Array): string | undefined {
  const starts = (...m: number[]) => startsWith(bytes, ...m);
  if (starts(0x42, 0x4d)) return 'BMP';
  if (starts(0, 0, 1, 0) && bytes[4]! + bytes[5]! > 0) return 'ICO';
  if (bytes[0] === 0x50 && bytes[1]! >= 0x31 && bytes[1]! <= 0x37 && [0x09, 0x0a, 0x0d, 0x20].includes(bytes[2]!)) return 'PNM (PBM, PGM, PPM)';
  if (starts(0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20) || starts(0xff, 0x4f, 0xff, 0x51)) return 'JPEG 2000';
  if (starts(0x0a) && bytes[1]! <= 5 && bytes[2] === 1) return 'PCX';
  // TGA has no magic at its start; version 2 files end with this footer.
  if (Buffer.from(bytes.subarray(bytes.length - 18)).toString('latin1') === 'TRUEVISION-XFILE.\0') return 'TGA';
  return undefined;
}

/**
 * Where a GIF's first frame lies on its logical screen ([left, top, width, height]) and the screen's
 * size, read from the header and the first image descriptor; undefined where the stream ends first.
 */
function gifFirstFrame(b: Uint8Array): { readonly screen: readonly [number, number]; readonly frame: readonly [number, number, number, number] } | undefined {
  const u16 = (at: number) => b[at]! | (b[at + 1]! << 8);
  if (b.length < 13) return undefined;
  const screen = [u16(6), u16(8)] as const;
  let at = 13 + (b[10]! & 0x80 ? 3 << ((b[10]! & 7) + 1) : 0);
  while (at < b.length) {
    if (b[at] === 0x2c) return at + 9 < b.length ? { screen, frame: [u16(at + 1), u16(at + 3), u16(at + 5), u16(at + 7)] } : undefined;
    if (b[at] !== 0x21) return undefined;
    at += 2; // extension introducer and label, then sub-blocks up to an empty one
    while (at < b.length && b[at] !== 0) at += b[at]! + 1;
    at += 1;
  }
  return undefined;
}

/** A file path, or an encoded image in memory (a request body) with a name for messages. */
export type ImageSource = string | { readonly name: string; readonly bytes: Uint8Array };

export function sourceName(src: ImageSource): string {
  return typeof src === 'string' ? src : src.name;
}

export interface Decoded {
  readonly image: Image8;
  /** Things worth a note (a conversion Pillow makes that the user may not expect). */
  readonly notes: readonly string[];
}

/** Whether a JPEG or PNG lacks its end (EOI marker, IEND chunk): a file cut short by a copy or a download. */
function truncated(input: Uint8Array, format: string): boolean {
  const tail = Buffer.from(input.buffer, input.byteOffset, input.length).subarray(Math.max(0, input.length - 4096));
  if (format === 'jpeg') return !tail.includes(Buffer.from([0xff, 0xd9]));
  if (format === 'png') return !tail.includes(Buffer.from('IEND'));
  return false;
}

/**
 * Why decoding failed, the same each time, and a hint: libvips keeps one error buffer for all threads,
 * so images decoded side by side (vitc finetune) get each other's text, repeated, or "Unknown error".
 */
function decodeFailure(input: Uint8Array, format: string, message: string): { why: string; hint?: string } {
  if (truncated(input, format)) return { why: `the file is truncated (it ends before the image does, with no ${format === 'jpeg' ? 'end-of-image marker' : 'IEND chunk'})`, hint: 'copy or download it again' };
  const first = message.split('\n').map((l) => l.trim()).find((l) => l !== '' && !/^unknown error\.?$/i.test(l));
  return { why: first ? first.replace(/\.$/, '') : `libvips cannot decode this ${format.toUpperCase()} file` };
}

export async function decodeImage(src: ImageSource, options: DecodeOptions): Promise<Decoded> {
  const file = sourceName(src);
  // A path is read as a bounded regular file first (a FIFO or a device would never end).
  const input = typeof src === 'string' ? readRegularFile(src, 'image') : src.bytes;
  const span = fileSpan(file);
  if (input.length === 0) fail('image/format', 'the file is empty, not an image', span);
  let meta: Metadata;
  try {
    // The header alone, whatever its size: the size is checked below, with a message that gives it.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (e) {
    const m = (e as Error).message;
    if (isNpy(input)) fail('image/format', 'this is a NumPy .npy tensor, not an image', span, 'vitc run reads a preprocessed tensor with --input FILE');
    const other = pillowOnlyFormatOf(input);
    if (other) fail('image/format', `${other} images are not supported: Pillow opens them, but libvips, which decodes for vitc, does not`, span, 'save the photo as PNG; vitc reads JPEG, PNG, WebP, TIFF and GIF');
    return fail('image/format', `not an image vitc can read (${m.replace(/^Input (buffer|file) contains /, '').replace(/\.$/, '')})`, span, 'vitc reads JPEG, PNG, WebP, TIFF and GIF');
  }
  if (!meta.format || !FORMATS.has(meta.format)) fail('image/format', `${meta.format ?? 'this'} images are not supported`, span, 'vitc reads JPEG, PNG, WebP, TIFF and GIF, as Pillow does without plugins');
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_PIXELS) {
    fail('image/too-large', `the image is ${meta.width}x${meta.height}, ${pixels.toLocaleString('en-US')} pixels: more than the ${MAX_PIXELS.toLocaleString('en-US')} Pillow opens (it raises DecompressionBombError above that)`,
      span, 'resize it first; Pillow opens it once Image.MAX_IMAGE_PIXELS is raised');
  }
  if (meta.format === 'gif') {
    // Where the first frame leaves part of the screen uncovered, Pillow 9 shows the palette's first
    // colour there and libvips black, and a frame past the screen grows Pillow's image (later Pillows
    // differ again): no one answer to match, so say so.
    const g = gifFirstFrame(input);
    if (g && (g.frame[0] !== 0 || g.frame[1] !== 0 || g.frame[2] !== g.screen[0] || g.frame[3] !== g.screen[1])) {
      fail('image/gif-frame', `this GIF's first frame is ${g.frame[2]}x${g.frame[3]} at ${g.frame[0]},${g.frame[1]} on its ${g.screen[0]}x${g.screen[1]} screen: Pillow and libvips make different images of a frame that does not fill the screen exactly`,
        span, 'save the image as PNG');
    }
  }
  if (meta.space === 'cmyk') {
    fail('image/cmyk', `CMYK ${meta.format === 'jpeg' ? 'JPEGs' : `${meta.format.toUpperCase()} images`} are not supported: Pillow and libvips turn CMYK into RGB differently`, span, 'save the photo as RGB first');
  }
  const notes: string[] = [];
  if (pixels > WARN_PIXELS) {
    notes.push(`${file}: ${meta.width}x${meta.height}, ${pixels.toLocaleString('en-US')} pixels: more than Pillow's Image.MAX_IMAGE_PIXELS (${WARN_PIXELS.toLocaleString('en-US')}), where its Image.open warns DecompressionBombWarning and reads the image all the same, as vitc does`);
  }
  // Pillow's TIFF reader turns the image by its Orientation tag as it loads it, so Image.open does
  // for a TIFF what --exif-rotate does for the other formats.
  const img = sharp(input, { ignoreIcc: true, autoOrient: options.exifRotate === true || meta.format === 'tiff', failOn: 'error', limitInputPixels: MAX_PIXELS });
  // Only plain 16-bit grayscale is clipped (below). With alpha, Pillow opens a 16-bit PNG as RGBA from
  // each sample's high byte, as it does 16-bit RGB(A), and so does libvips' cast to 8 bits.
  const sixteenBitGray = meta.depth === 'ushort' && (meta.channels ?? 0) === 1;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = sixteenBitGray
      ? await img.toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true })
      : await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    const { why, hint } = decodeFailure(input, meta.format, (e as Error).message);
    return fail('image/decode', `cannot decode the image: ${why}`, span, hint);
  }
  const { width, height, channels: c } = raw.info;
  const n = width * height;
  if (meta.format === 'gif' && c === 4 && raw.data.some((v, i) => i % 4 === 3 && v === 0)) {
    fail('image/gif-transparency', 'this GIF has transparent pixels, whose colour libvips does not keep (Pillow\'s convert(\'RGB\') shows the palette colour there)', span, 'save the image as PNG');
  }
  const rgb = new Uint8Array(n * 3);
  if (sixteenBitGray) {
    // Pillow 9 opens a 16-bit grayscale PNG in mode "I" and convert('RGB') clips it to 0..255.
    const v = new Uint16Array(raw.data.buffer, raw.data.byteOffset, raw.data.length / 2);
    for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = Math.min(v[i * c]!, 255);
    notes.push(`${file}: 16-bit grayscale: values above 255 become 255, as Pillow's convert('RGB') does`);
  } else {
    // Gray (+alpha) is replicated, alpha is dropped (Pillow's convert('RGB') does not composite).
    const d = raw.data;
    for (let i = 0; i < n; i++) {
      const s = i * c;
      if (c >= 3) { rgb[3 * i] = d[s]!; rgb[3 * i + 1] = d[s + 1]!; rgb[3 * i + 2] = d[s + 2]!; } else rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = d[s]!;
    }
  }
  if (options.mode === 'RGB') return { image: { width, height, channels: 3, data: rgb }, notes };
  return { image: { width, height, channels: 1, data: toLuma(rgb) }, notes };
}

/** Pillow's RGB -> L: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16 (ITU-R 601-2 in 16-bit fixed point). */
export function toLuma(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = (rgb[3 * i]! * 19595 + rgb[3 * i + 1]! * 38470 + rgb[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  return out;
}
