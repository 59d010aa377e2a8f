// Reading zip archives (PyTorch checkpoints and NumPy .npz files are both zips) with yauzl: the
// central directory is read once, members are streamed on demand into preallocated buffers and
// checked against the CRC-32 the archive records for them.
import yauzl from 'yauzl';
import { fail, fileSpan } from '../diag/diagnostic.js';
import { crc32 } from '../util/crc32.js';

export interface ZipArchive {
  readonly file: string;
  /** Member names in the order of the central directory. */
  readonly names: readonly string[];
  /** Uncompressed size of a member, or undefined when there is none of that name. */
  size(name: string): number | undefined;
  /** A member's bytes; `onBytes` is told of every chunk read (for progress). */
  read(name: string, onBytes?: (n: number) => void): Promise<Uint8Array>;
  close(): void;
}

/** What yauzl's messages mean for someone holding a checkpoint. */
function explain(message: string): string {
  if (/end of central directory record signature not found/i.test(message)) return 'the zip archive has no central directory: the file is truncated or damaged (was the download or the save interrupted?)';
  if (/unexpected EOF|truncated|not enough|out of range|past the end/i.test(message)) return `the zip archive is truncated or damaged (${message})`;
  return `the zip archive is damaged (${message})`;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

export async function openZip(file: string): Promise<ZipArchive> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true });
  } catch (e) {
    return fail('weights/zip', explain((e as Error).message), fileSpan(file));
  }
  const entries = new Map<string, yauzl.Entry>();
  try {
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
  } catch (e) {
    zip.close();
    return fail('weights/zip', explain((e as Error).message), fileSpan(file));
  }
  return {
    file,
    names: [...entries.keys()],
    size: (name) => entries.get(name)?.uncompressedSize,
    async read(name, onBytes) {
      const entry = entries.get(name);
      if (!entry) return fail('weights/zip', `the archive has no member "${name}"`, fileSpan(file));
      if (entry.isEncrypted()) return fail('weights/zip', `member "${name}" is encrypted`, fileSpan(file));
      const out = new Uint8Array(entry.uncompressedSize);
      let at = 0;
      let crc = 0;
      try {
        const stream = await zip.openReadStreamPromise(entry);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (at + chunk.length > out.length) throw new Error(`member "${name}" is longer than its recorded size`);
          out.set(chunk, at);
          at += chunk.length;
          crc = crc32(chunk, crc);
          onBytes?.(chunk.length);
        }
      } catch (e) {
        return fail('weights/zip', `cannot read member "${name}": ${explain((e as Error).message)}`, fileSpan(file));
      }
      if (at !== out.length) return fail('weights/zip', `member "${name}" holds ${at} of its ${out.length} bytes: the file is truncated`, fileSpan(file));
      // A recorded CRC of 0 means none was computed: torch.save writes 0 when
      // torch.serialization.set_crc32_options(False) is in effect.
      if (entry.crc32 !== 0 && crc !== entry.crc32) {
        return fail('weights/zip', `member "${name}" is damaged: its bytes have CRC-32 ${hex(crc)} but the archive records ${hex(entry.crc32)}`, fileSpan(file),
          'copy or download the file again');
      }
      return out;
    },
    close: () => zip.close(),
  };
}
