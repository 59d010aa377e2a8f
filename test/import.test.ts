// Weights from PyTorch, Hugging Face, JAX and torchvision reach the same logits as the PyTorch
// reference, through the same path as `vitc run`; hostile and broken files get one line and exit 1.
// Fixtures: tools/golden/make_import_fixtures.py (Debian's PyTorch), in test/fixtures/import/.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writePth } from '../src/import/pth-write.js';
import { writeZip } from '../src/import/zip-write.js';
import { PyDict, describe as describePy, unpickle } from '../src/import/pickle.js';
import { BadArguments, TorchStorage, TorchTensor, isTensor, resolveTorchGlobal } from '../src/import/torch-pickle.js';
import { findStateDict } from '../src/import/unwrap.js';
import { join } from 'node:path';
import { vitc, tempDir } from './helpers.js';
import { compare } from './golden.js';
import { readNpy } from '../src/weights/npy.js';
import { parseSafetensors, tensorToFloat32 } from '../src/runtime/safetensors.js';

const FX = 'test/fixtures/import';
const fx = (f: string) => join(FX, f);
const npy = (f: string) => readNpy(f, new Uint8Array(readFileSync(f))).data;

/** The offset of the zip header with signature `sig` whose name (length at `nameLengthAt`) is `name`. */
function zipHeader(zip: Buffer, sig: string, nameLengthAt: number, name: string): number {
  const nameAt = nameLengthAt === 26 ? 30 : 46;
  for (let at = 0; (at = zip.indexOf(sig, at, 'latin1')) >= 0; at += 4) {
    if (zip.toString('latin1', at + nameAt, at + nameAt + zip.readUInt16LE(at + nameLengthAt)) === name) return at;
  }
  throw new Error(`no ${name} in the archive`);
}

async function logits(spec: string, weights: string, input: string, ...extra: string[]): Promise<{ data: Float32Array; stderr: string }> {
  const out = join(tempDir(), 'logits.npy');
  const r = await vitc('run', spec, '--weights', weights, '--input', input, '--output', out, '--top', '0', ...extra);
  expect(r.stderr.split('\n').filter((l) => / error: /.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  return { data: npy(out), stderr: r.stderr };
}

describe('every format and naming scheme gives the reference logits', () => {
  it.each([
    ['weights.safetensors', 'logits.npy', ''],
    ['model.pth', 'logits.npy', ''],
    ['model-cuda.pth', 'logits.npy', ''],
    ['model-shared.pth', 'logits.npy', ''],
    ['model-torch2.pth', 'logits.npy', ''],
    ['model-wrapped.pth', 'logits.npy', 'note: using checkpoint["model"] (the file also holds epoch, optimizer, best_acc)'],
    ['model-timm.pth.tar', 'logits.npy', 'note: using checkpoint["state_dict"] (the file also holds epoch, arch, optimizer, version, args, metric)'],
    ['model-fp16.pth', 'logits-fp16.npy', ''],
    ['model-bf16.pth', 'logits-bf16.npy', ''],
    ['model-hf.safetensors', 'logits.npy', 'note: mapped Hugging Face ViTForImageClassification names to timm names'],
    ['model-jax.npz', 'logits.npy', 'note: mapped original ViT (JAX/Flax) names to timm names'],
    ['model-torchvision.pth', 'logits.npy', 'note: mapped torchvision VisionTransformer names to timm names'],
  ])('%s', async (weights, expected, noteText) => {
    const got = await logits(fx('flowers.yaml'), fx(weights), fx('input.npy'));
    expect(compare(got.data, npy(fx(expected))).rel).toBeLessThan(1e-5);
    if (noteText) expect(got.stderr).toContain(noteText);
  });
  it('says what it unwrapped: the state dict chosen and the DataParallel prefix', async () => {
    const r = await logits(fx('flowers.yaml'), fx('model-wrapped.pth'), fx('input.npy'));
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      'test/fixtures/import/model-wrapped.pth: note: using checkpoint["model"] (the file also holds epoch, optimizer, best_acc)',
      'test/fixtures/import/model-wrapped.pth: note: removed the prefix "module." that DataParallel put on every name',
    ]);
  });
  it('runs a .pth on the onnx target, which embeds the weights at build time', async () => {
    const got = await logits(fx('flowers.yaml'), fx('model-cuda.pth'), fx('input.npy'), '--target', 'onnx');
    expect(compare(got.data, npy(fx('logits.npy'))).rel).toBeLessThan(1e-4);
  });
});

describe('prefixes that wrappers put on every name', () => {
  const renamed = (prefix: string) => {
    const w = parseSafetensors(new Uint8Array(readFileSync(fx('weights.safetensors'))));
    const file = join(tempDir(), 'prefixed.pth');
    writeFileSync(file, writePth(Object.entries(w).map(([n, t]) => [prefix + n, t] as const)));
    return file;
  };
  it.each([
    ['_orig_mod.', 'note: removed the prefix "_orig_mod." that torch.compile put on every name'],
    ['module._orig_mod.', 'note: removed the prefix "module." and "_orig_mod." that DataParallel and torch.compile put on every name'],
    ['model.', 'note: removed the prefix "model." that every name carries'],
  ])('%s', async (prefix, noteText) => {
    const got = await logits(fx('flowers.yaml'), renamed(prefix), fx('input.npy'));
    expect(got.stderr).toContain(noteText);
    expect(compare(got.data, npy(fx('logits.npy'))).rel).toBeLessThan(1e-5);
  });
});

describe('position embeddings for another resolution', () => {
  it('resamples pos_embed bicubically as timm does, keeps the class token, and says so in one line', async () => {
    const got = await logits(fx('flowers-48.yaml'), fx('model.pth'), fx('input-48.npy'));
    expect(got.stderr.split('\n')[0]).toBe("test/fixtures/import/model.pth: note: resampled pos_embed from the weights' 4x4 grid of patches to 6x6 for img_size 48 (bicubic, as timm does; the class token's row is kept)");
    expect(compare(got.data, npy(fx('logits-48.npy'))).rel).toBeLessThan(1e-5);
  });
  it('convert --spec writes the resampled table (F.interpolate bicubic within 1e-6)', async () => {
    const out = join(tempDir(), 'w48.safetensors');
    const r = await vitc('convert', fx('model-jax.npz'), '-o', out, '--spec', fx('flowers-48.yaml'));
    expect(r.code).toBe(0);
    const pe = tensorToFloat32(parseSafetensors(new Uint8Array(readFileSync(out)))['pos_embed']!);
    const ref = npy(fx('pos_embed-48.npy'));
    expect(compare(pe, ref).maxErr).toBeLessThan(1e-6);
    expect(pe.subarray(0, 16)).toEqual(ref.subarray(0, 16)); // the class token's row is copied
  });
});

describe('.npz archives are read as forgivingly as .pth files', () => {
  it('keeps float16/32/64 arrays in their dtype, byte-swaps big-endian ones, lays Fortran-order ones out in C order, and leaves out the rest with a note', async () => {
    const out = join(tempDir(), 'arrays.safetensors');
    const r = await vitc('convert', fx('arrays.npz'), '-o', out);
    expect([r.code, r.stderr]).toEqual([0, 'test/fixtures/import/arrays.npz: note: left out 3 non-floating-point tensors (step, mask, name): a ViT has no integer parameters']);
    // arrays.json: what numpy reads from arrays.npz (make_import_fixtures.py)
    const want = JSON.parse(readFileSync(fx('arrays.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    const got = parseSafetensors(new Uint8Array(readFileSync(out)));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [name, w] of Object.entries(want)) {
      const t = got[name]!;
      expect([t.dtype, t.shape], name).toEqual([w.dtype, w.shape]);
      const values = t.dtype === 'F64' ? [...new Float64Array(t.bytes.slice().buffer)] : [...tensorToFloat32(t)];
      expect(values, name).toEqual(w.values);
    }
  });
});

describe('vitc convert', () => {
  it('writes safetensors with timm names, the same bytes every time, whatever the source', async () => {
    const dir = tempDir();
    const outs: Uint8Array[] = [];
    for (const [src, name] of [['model.pth', 'a'], ['model.pth', 'b'], ['model-torchvision.pth', 'c']] as const) {
      const out = join(dir, `${name}.safetensors`);
      const r = await vitc('convert', fx(src), '-o', out);
      expect(r.code).toBe(0);
      outs.push(new Uint8Array(readFileSync(out)));
    }
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
    const want = parseSafetensors(new Uint8Array(readFileSync(fx('weights.safetensors'))));
    const got = parseSafetensors(outs[0]!);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expect(tensorToFloat32(got[k]!), k).toEqual(tensorToFloat32(want[k]!));
  });
  it('keeps fp16 as F16 and prints what it wrote', async () => {
    const out = join(tempDir(), 'h.safetensors');
    const r = await vitc('convert', fx('model-fp16.pth'), '-o', out, '--spec', fx('flowers.yaml'));
    expect(r.stdout).toBe(`${out}: 32 tensors (F16), 18.0 KiB, from a PyTorch checkpoint with timm names; matches flowers-micro`);
    expect(Object.values(parseSafetensors(new Uint8Array(readFileSync(out)))).every((t) => t.dtype === 'F16')).toBe(true);
  });
  it('reads a state dict saved with other values in it ({**state_dict, \'epoch\': 9}), naming what it left out', async () => {
    const out = join(tempDir(), 'mixed.safetensors');
    const r = await vitc('convert', fx('model-mixed.pth'), '-o', out);
    expect([r.code, r.stderr.split('\n')]).toEqual([0, [
      'test/fixtures/import/model-mixed.pth: note: left out 2 entries that are not tensors ("epoch": 9, "arch": "vit_micro")',
      'test/fixtures/import/model-mixed.pth: note: left out 1 non-floating-point tensor (steps): a ViT has no integer parameters',
    ]]);
    const want = parseSafetensors(new Uint8Array(readFileSync(fx('weights.safetensors'))));
    const got = parseSafetensors(new Uint8Array(readFileSync(out)));
    expect(Object.keys(got).sort()).toEqual(['head.bias', 'head.weight']);
    for (const k of Object.keys(got)) expect(tensorToFloat32(got[k]!), k).toEqual(tensorToFloat32(want[k]!));
  });
  it('reads a checkpoint with NumPy scalars in its metadata ({\'best_acc\': np.float64(0.91)}), keeping them as inert data', async () => {
    const out = join(tempDir(), 'numpy.safetensors');
    const r = await vitc('convert', fx('model-numpy.pth'), '-o', out);
    expect([r.code, r.stderr]).toEqual([0, 'test/fixtures/import/model-numpy.pth: note: using checkpoint["model"] (the file also holds best_acc, epoch, dtype)']);
    expect(Object.keys(parseSafetensors(new Uint8Array(readFileSync(out)))).sort()).toEqual(['head.bias', 'head.weight']);
  });
  it('a state dict nested in a wrapper in a wrapper is named by a --key path, which the message without one gives', async () => {
    const out = join(tempDir(), 'nested.safetensors');
    const r = await vitc('convert', fx('model-nested.pth'), '-o', out);
    expect([r.code, r.stderr]).toEqual([1, 'test/fixtures/import/model-nested.pth: error: no state dict found: the checkpoint is a dict of ckpt, and none of them is a dict of tensors '
      + '(one is nested deeper: name it with --key ckpt.model)']);
    const r2 = await vitc('convert', fx('model-nested.pth'), '--key', 'ckpt.model', '-o', out);
    expect([r2.code, r2.stderr]).toEqual([0, 'test/fixtures/import/model-nested.pth: note: using checkpoint["ckpt"]["model"]']);
    expect(Object.keys(parseSafetensors(new Uint8Array(readFileSync(out)))).sort()).toEqual(['head.bias', 'head.weight']);
  });
  it('refuses an -o not named .safetensors (torch.load would fail on it), writing nothing', async () => {
    const dir = tempDir();
    const r = await vitc('convert', fx('model.pth'), '-o', join(dir, 'out.pth'));
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `${join(dir, 'out.pth')}: error: vitc convert writes safetensors, so -o must end in .safetensors, not .pth `
      + `(-o ${join(dir, 'out.safetensors')}; torch.load cannot read safetensors, safetensors.torch.load_file can)`]);
    const w = await vitc('weights', fx('flowers.yaml'), '-o', join(dir, 'w'));
    expect([w.code, w.stderr]).toEqual([1, `${join(dir, 'w')}: error: vitc weights writes safetensors, so -o must end in .safetensors `
      + `(-o ${join(dir, 'w.safetensors')}; torch.load cannot read safetensors, safetensors.torch.load_file can)`]);
    expect(readdirSync(dir)).toEqual([]);
  });
  it('--key picks an entry; a wrong one is named with the keys that exist', async () => {
    const out = join(tempDir(), 'k.safetensors');
    expect((await vitc('convert', fx('model-wrapped.pth'), '--key', 'model', '-o', out)).code).toBe(0);
    const r = await vitc('convert', fx('model-wrapped.pth'), '--key', 'ema', '-o', out);
    expect([r.code, r.stderr]).toEqual([1, 'test/fixtures/import/model-wrapped.pth: error: --key ema: the checkpoint has no key "ema" (its keys: epoch, model, optimizer, best_acc)']);
    const r2 = await vitc('convert', fx('model-wrapped.pth'), '--key', 'optimizer', '-o', out);
    expect(r2.stderr).toBe('test/fixtures/import/model-wrapped.pth: error: --key optimizer: checkpoint["optimizer"] is a dict of 2, not a dict of tensors');
  });
});

describe('what a checkpoint holds instead of a state dict', () => {
  const tensor = new TorchTensor(new TorchStorage('F32', '0', 'cpu', 1), 0, [1], [1]);
  const dict = () => {
    const d = new PyDict('OrderedDict');
    for (let i = 0; i < 20; i++) d.set(`blocks.${i}.norm1.weight`, tensor);
    return d;
  };
  it('tensors next to other values are used, and the others named in a note', () => {
    const d = dict();
    d.set('epoch', 9);
    d.set('arch', 'vit_base_patch16_224_with_a_name_past_24_characters');
    const found = findStateDict('m.pth', d, isTensor);
    expect(found.entries.map(([n]) => n)).toEqual([...dict().entries.map(([n]) => n)]);
    expect(found.left).toBe('left out 2 entries that are not tensors ("epoch": 9, "arch": "vit_base_patch16_224_wit"...)');
  });
  it('--key takes a path of nested keys, and a key that holds dots is tried whole first', () => {
    const inner = new PyDict();
    inner.set('model', dict());
    inner.set('epoch', 9);
    const root = new PyDict();
    root.set('ckpt', inner);
    root.set('ema.model', dict());
    expect(findStateDict('m.pth', root, isTensor, 'ckpt.model').note).toBe('using checkpoint["ckpt"]["model"]');
    expect(findStateDict('m.pth', root, isTensor, 'ema.model').note).toBe('using checkpoint["ema.model"]');
    expect(() => findStateDict('m.pth', root, isTensor, 'ckpt.ema')).toThrow('m.pth: error: --key ckpt.ema: checkpoint["ckpt"] has no key "ema" (its keys: model, epoch)');
    expect(() => findStateDict('m.pth', root, isTensor, 'ckpt')).toThrow('m.pth: error: --key ckpt: checkpoint["ckpt"] is a dict of 2, not a dict of tensors (a state dict is nested in it: --key ckpt.model)');
  });
  it('a wrong --key lists a few of the keys, not hundreds', () => {
    expect(() => findStateDict('m.pth', dict(), isTensor, 'ema')).toThrow('m.pth: error: --key ema: the checkpoint has no key "ema" (its keys: blocks.0.norm1.weight, blocks.1.norm1.weight, '
      + 'blocks.2.norm1.weight, blocks.3.norm1.weight, blocks.4.norm1.weight, blocks.5.norm1.weight, blocks.6.norm1.weight, blocks.7.norm1.weight and 12 more)');
  });
});

describe('NumPy scalars in a checkpoint', () => {
  // Pickle bytes: opcodes as numbers, text as latin-1; str() is BINUNICODE (UTF-8).
  const pk = (...parts: (number | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p].map((c) => c.charCodeAt(0)))));
  const str = (s: string) => { const b = [...Buffer.from(s, 'utf8')]; return [0x58, b.length, 0, 0, 0, ...b]; };
  const load = (bytes: Uint8Array) => unpickle(bytes, { resolveGlobal: resolveTorchGlobal });
  const dtype = ['c', 'numpy\ndtype\n', ...str('f8'), 0x89, 0x88, 0x87, 'R'] as const;
  it('are read as numpy writes them (protocol 2: the bytes through _codecs.encode), as inert records', () => {
    const v = load(pk(0x80, 2, 'c', 'numpy.core.multiarray\nscalar\n', ...dtype, 'c', '_codecs\nencode\n', ...str('\xcd\xcc\xcc\xcc\xcc\xcc\xec?'), ...str('latin1'), 0x86, 'R', 0x86, 'R', '.'));
    expect(describePy(v)).toBe('a numpy.float64');
  });
  it('take only the arguments numpy writes', () => {
    expect(() => load(pk(0x80, 2, 'c', 'numpy\ndtype\n', ...str('f8'), 0x85, 'R', '.'))).toThrow(BadArguments);
    expect(() => load(pk(0x80, 2, 'c', '_codecs\nencode\n', ...str('abc'), ...str('utf-8'), 0x86, 'R', '.'))).toThrow(BadArguments);
    expect(() => load(pk(0x80, 2, 'c', 'numpy.core.multiarray\nscalar\n', ...str('f8'), 'K', 1, 0x86, 'R', '.'))).toThrow(BadArguments);
    expect(() => load(pk(0x80, 2, 'c', 'numpy.core.multiarray\nscalar\n', ...dtype, 'K', 1, 0x86, 'R', '.'))).toThrow(BadArguments);
  });
});

describe('a checkpoint that does not fit the spec', () => {
  it('gets one line naming the spec keys to set, at the spec\'s line', async () => {
    const r = await vitc('run', 'spec/tiny/tiny-base.yaml', '--weights', fx('model.pth'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('spec/tiny/_tiny.yaml:7:12: error: weights have patch_embed.proj.weight [16, 3, 8, 8], blocks.0.mlp.fc1.weight [32, 16], head.weight [5, 16]; '
      + 'the spec says embed_dim: 48, mlp_ratio: 4, num_classes: 10 — set embed_dim: 16, mlp_ratio: 2, num_classes: 5 (the weights are test/fixtures/import/model.pth; extended from spec/tiny/tiny-base.yaml:4:10)');
  });
  it('names num_classes alone when only the head differs, as in a fine-tuned checkpoint', async () => {
    const dir = tempDir();
    const spec = join(dir, 'flowers-1000.yaml');
    writeFileSync(spec, `extends: ${join(process.cwd(), FX, 'flowers.yaml')}\nnum_classes: 1000\n`);
    const r = await vitc('build', spec, '--weights', fx('model-hf.safetensors'), '-o', join(dir, 'out'));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').at(-1)).toBe(`${spec}:2:14: error: weights have head.weight [5, 16]; the spec says num_classes: 1000 — set num_classes: 5 (the weights are test/fixtures/import/model-hf.safetensors)`);
  });
});

describe('hostile and broken files', () => {
  it.each([
    ['evil-system.pth', '/tmp/vitc-evil-pickle-system', 'evil-system/data.pkl calls posix.system (at byte 2)'],
    ['evil-rebuild.pth', '/tmp/vitc-evil-pickle-rebuild', 'evil-rebuild/data.pkl calls posix.system (at byte 152)'],
  ])('%s is refused with exit 1, naming the global, and its payload never runs', async (file, marker, what) => {
    rmSync(marker, { force: true });
    for (const argv of [['run', fx('flowers.yaml'), '--weights', fx(file)], ['convert', fx(file), '-o', join(tempDir(), 'x.safetensors')]]) {
      const r = await vitc(...argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`test/fixtures/import/${file}: error: refusing to load: ${what}, which is not a tensor or storage rebuild, OrderedDict, Parameter, argparse.Namespace or NumPy scalar `
        + '(vitc runs no code from checkpoints; nothing was executed. Only weights saved with torch.save(model.state_dict(), PATH) and plain dicts of them are accepted)');
      expect(existsSync(marker)).toBe(false);
    }
  });
  it('a whole model (torch.save(model)) is refused with the line of Python that saves its state dict', async () => {
    // The first bytes of the data.pkl that torch.save(model) wrote for an instance of a class ViT in a module model.py.
    const pkl = Buffer.from('\x80\x02cmodel\nViT\nq\x00)\x81q\x01}q\x02(X\x08\x00\x00\x00trainingq\x03\x89', 'latin1');
    const file = join(tempDir(), 'whole.pth');
    writeFileSync(file, writeZip([{ name: 'whole/data.pkl', bytes: pkl }, { name: 'whole/version', bytes: Buffer.from('3\n') }]));
    const r = await vitc('convert', file, '-o', join(tempDir(), 'x.safetensors'));
    expect([r.code, r.stderr]).toEqual([1, `${file}: error: refusing to load: whole/data.pkl is a whole model.ViT object (as torch.save(model) writes), not a state dict, and only its class's code could rebuild it `
      + '(save its weights in Python, where that class imports: torch.save(torch.load(PATH, weights_only=False).state_dict(), NEW_PATH); vitc runs no code from checkpoints, and nothing was executed)']);
  });
  it.each([
    ['truncated.pth', 'the zip archive has no central directory: the file is truncated or damaged (was the download or the save interrupted?)'],
    ['not-a-checkpoint.zip', 'a zip archive that is neither a PyTorch checkpoint (no <name>/data.pkl) nor a NumPy .npz (not all .npy members); it holds notes/readme.txt'],
    ['model-legacy.pth', 'this checkpoint uses the legacy format of torch.save before PyTorch 1.6 (load it with torch and save it again with a current PyTorch: torch.save(torch.load(PATH), NEW_PATH))'],
    ['torchscript.pt', 'this is a TorchScript archive (torch.jit.save), which holds code as well as weights (save the weights with torch.save(model.state_dict(), PATH) and give vitc that file)'],
    ['input.npy', 'a single .npy array has no tensor names (save the weights with np.savez(PATH, **named_arrays), or as safetensors)'],
    ['flowers.yaml', 'unrecognized weights format (vitc reads safetensors, PyTorch .pth/.pt (torch.save) and NumPy .npz files)'],
  ])('%s: one clear line', async (file, message) => {
    const r = await vitc('run', fx('flowers.yaml'), '--weights', fx(file));
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `test/fixtures/import/${file}: error: ${message}`]);
  });
  it('a changed byte in a tensor\'s data fails the member\'s CRC-32; an archive that records no CRC (0, as torch.save writes under set_crc32_options(False)) is read', async () => {
    const good = readFileSync(fx('model.pth'));
    const local = zipHeader(good, 'PK\x03\x04', 26, 'model/data/2');
    const central = zipHeader(good, 'PK\x01\x02', 28, 'model/data/2');
    const dir = tempDir();
    const damaged = Buffer.from(good);
    damaged[local + 30 + damaged.readUInt16LE(local + 26) + damaged.readUInt16LE(local + 28) + 100]! ^= 0x40;
    writeFileSync(join(dir, 'damaged.pth'), damaged);
    const r = await vitc('run', fx('flowers.yaml'), '--weights', join(dir, 'damaged.pth'), '--input', fx('input.npy'));
    expect([r.code, r.stderr]).toEqual([1, `${join(dir, 'damaged.pth')}: error: member "model/data/2" is damaged: its bytes have CRC-32 0x69c17ab3 but the archive records 0x${good.readUInt32LE(central + 16).toString(16).padStart(8, '0')} (copy or download the file again)`]);
    const unrecorded = Buffer.from(good);
    for (let at = 0; (at = unrecorded.indexOf('PK\x03\x04', at, 'latin1')) >= 0; at += 4) unrecorded.writeUInt32LE(0, at + 14);
    for (let at = 0; (at = unrecorded.indexOf('PK\x01\x02', at, 'latin1')) >= 0; at += 4) unrecorded.writeUInt32LE(0, at + 16);
    writeFileSync(join(dir, 'unrecorded.pth'), unrecorded);
    expect(compare((await logits(fx('flowers.yaml'), join(dir, 'unrecorded.pth'), fx('input.npy'))).data, npy(fx('logits.npy'))).rel).toBeLessThan(1e-5);
  });
  it('a missing file, and --key without --weights', async () => {
    expect((await vitc('run', fx('flowers.yaml'), '--weights', fx('nope.pth'))).stderr).toBe('test/fixtures/import/nope.pth: error: cannot read weights: no such file');
    expect((await vitc('run', fx('flowers.yaml'), '--key', 'model')).stderr).toBe('error: --key needs --weights');
  });
  it('convert refuses to overwrite its input', async () => {
    const r = await vitc('convert', fx('weights.safetensors'), '-o', fx('weights.safetensors'));
    expect([r.code, r.stderr]).toEqual([1, 'test/fixtures/import/weights.safetensors: error: refusing to overwrite the input test/fixtures/import/weights.safetensors with its conversion (choose another -o)']);
  });
});
