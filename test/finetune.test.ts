// vitc finetune end to end on generated image folders (test/image-folder.ts) with tiny backbones:
// it learns (validation accuracy well above chance) and its best.safetensors predicts through
// vitc run --image; --no-augment reproduces the tutorial's PyTorch training on the same features
// (tools/golden/finetune_ref.py: read_split_data on the same folder, torch.optim.SGD + LambdaLR);
// --resume continues an interrupted run to the same result; bad input is one line.
import { availableParallelism } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { finetune, type FinetuneOptions } from '../src/finetune/run.js';
import { readSplitData } from '../src/finetune/split.js';
import { readState } from '../src/finetune/state.js';
import { makeImageFolder } from './image-folder.js';
import { compare } from './golden.js';
import { parseSafetensors, tensorToFloat32 } from '../src/weights/safetensors.js';
import { runAsync, tempDir, vitc } from './helpers.js';

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
if (!hasTorch && !process.env.CI) console.warn('note: /usr/bin/python3 has no torch; skipping the PyTorch reference check of vitc finetune');

const CLASSES = ['circle', 'square', 'triangle'];
let root: string, data: string, spec: string, specPre: string, weights: string, weightsPre: string;

function writeSpec(name: string, extra: string): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nextends: ${resolve('spec/tiny/_tiny.yaml')}\nnum_classes: 3\n${extra}`);
  return file;
}

beforeAll(async () => {
  root = tempDir('vitc-finetune-');
  data = join(root, 'shapes');
  await makeImageFolder(data, { classes: CLASSES, perClass: 12, minSide: 36, maxSide: 72, seed: 7 });
  spec = writeSpec('tiny-shapes', '');
  specPre = writeSpec('tiny-shapes-pre', 'representation_size: 16\n');
  weights = join(root, 'w.safetensors');
  weightsPre = join(root, 'w-pre.safetensors');
  expect((await vitc('weights', spec, '-o', weights)).code).toBe(0);
  expect((await vitc('weights', specPre, '-o', weightsPre)).code).toBe(0);
}, 60_000);

const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));

describe('vitc finetune', () => {
  it('learns a generated folder; best.safetensors predicts the validation images through vitc run --image', async () => {
    const out = join(root, 'run-augment');
    const r = await vitc('finetune', spec, '--weights', weights, '--data', data, '-o', out, '--epochs', '3', '--batch-size', '4', '--lr', '0.05');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${data}: 36 images in 3 classes: 30 for training, 6 for validation`);
    expect(r.stderr).toContain('training head.weight [3, 48], head.bias [3]; the rest of tiny-shapes frozen, run on onnx (fp32)');
    expect(r.stdout.split('\n').filter((l) => /^epoch \d\/3: train loss [\d.]+ acc [\d.]+, val loss [\d.]+ acc [\d.]+, lr [\d.]+ \([\d.]+ s\)( best)?$/.test(l))).toHaveLength(3);
    expect(readdirSync(out).sort()).toEqual(['best.safetensors', 'cache', 'class_indices.json', 'log.csv', 'state.json', 'steps.csv']);
    expect(readFileSync(join(out, 'class_indices.json'), 'utf8')).toBe('{\n    "0": "circle",\n    "1": "square",\n    "2": "triangle"\n}');
    const log = csvRows(join(out, 'log.csv'));
    expect(log.map((row) => row[0])).toEqual([0, 1, 2]);
    expect(log[0]![5]).toBe(0.05);
    const state = readState(out);
    const best = state.best!;
    expect(best.val_acc).toBeGreaterThanOrEqual(5 / 6); // chance is 1/3
    // The compiled model with the trained head (vitc run, js target) classifies the validation images as training measured.
    const val = readSplitData(data).val;
    const run = await vitc('run', spec, '--weights', join(out, 'best.safetensors'), '--labels', join(out, 'class_indices.json'), '--json', '--image', ...val.map((s) => s.path));
    expect(run.code).toBe(0);
    const results = (JSON.parse(run.stdout) as { results: { class: number }[] }).results;
    const correct = results.filter((p, i) => p.class === val[i]!.label).length;
    expect(correct / val.length).toBe(best.val_acc);
  }, 60_000);

  it.skipIf(!hasTorch && !process.env.CI)('--no-augment reproduces the tutorial\'s PyTorch training on the same features and batch order (pre_logits + head)', async () => {
    const out = join(root, 'run-golden');
    const r = await vitc('finetune', specPre, '--weights', weightsPre, '--data', data, '-o', out, '--epochs', '3', '--batch-size', '5', '--lr', '0.02', '--weight-decay', '0.001', '--seed', '3', '--no-augment');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('training pre_logits.fc.weight [16, 48], pre_logits.fc.bias [16], head.weight [3, 16], head.bias [3]');
    const py = await runAsync(PY, ['tools/golden/finetune_ref.py', out, data]);
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    const ref = JSON.parse(py.stdout) as { train: string[]; val: string[]; class_indices: string; steps: number[]; epochs: { train_loss: number; val_loss: number; train_acc: number; val_acc: number; lr: number }[]; final: Record<string, number[]> };
    // The tutorial's read_split_data on the same folder: the same files, in the same order.
    const split = readSplitData(data);
    expect(split.train.map((s) => s.path)).toEqual(ref.train);
    expect(split.val.map((s) => s.path)).toEqual(ref.val);
    expect(readFileSync(join(out, 'class_indices.json'), 'utf8')).toBe(ref.class_indices);
    const steps = csvRows(join(out, 'steps.csv')).map((row) => row[2]!);
    expect(steps).toHaveLength(ref.steps.length);
    let worst = 0;
    steps.forEach((l, i) => { worst = Math.max(worst, Math.abs(l - ref.steps[i]!)); });
    expect(worst).toBeLessThan(1e-5);
    const log = csvRows(join(out, 'log.csv'));
    ref.epochs.forEach((e, i) => {
      expect(Math.abs(log[i]![1]! - e.train_loss)).toBeLessThan(1e-5);
      expect(log[i]![2]).toBe(e.train_acc);
      expect(Math.abs(log[i]![3]! - e.val_loss)).toBeLessThan(1e-5);
      expect(log[i]![4]).toBe(e.val_acc);
      expect(log[i]![5]).toBeCloseTo(e.lr, 15);
    });
    const params = readState(out).params;
    for (const [name, want] of Object.entries(ref.final)) {
      const got = params.find((p) => p.name === name)!.data;
      let d = 0;
      got.forEach((v, i) => { d = Math.max(d, Math.abs(v - want[i]!)); });
      expect(d, name).toBeLessThan(1e-5);
    }
    expect(readdirSync(join(out, 'cache')).sort().map((f) => f.split('-')[0])).toEqual(['train', 'val']);
  }, 60_000);

  it('-t cuda: the backbone runs model.cu (under the emulation without a GPU), with the features and steps of onnx', async () => {
    const args = ['--weights', weights, '--data', data, '--epochs', '2', '--batch-size', '4', '--seed', '2', '--no-augment'];
    const onnx = join(root, 'run-onnx'), cuda = join(root, 'run-cuda');
    const [a, b] = await Promise.all([vitc('finetune', spec, ...args, '-o', onnx), vitc('finetune', spec, ...args, '-o', cuda, '-t', 'cuda')]);
    expect(a.code).toBe(0);
    expect(b.stderr).not.toMatch(/error/);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain('training head.weight [3, 48], head.bias [3]; the rest of tiny-shapes frozen, run on cuda (fp32)');
    expect(b.stderr).toMatch(/cuda: (running on .* \(built with nvcc for sm_\d+a?\)|no GPU found by nvidia-smi: running model\.cu on the CPU under vitc's emulation)/);
    // The cached features of both targets: the same images in the same order, equal to f32 rounding.
    const cached = (dir: string, name: string) => {
      const file = readdirSync(join(dir, 'cache')).find((f) => f.startsWith(`${name}-`))!;
      return tensorToFloat32(parseSafetensors(readFileSync(join(dir, 'cache', file))).features!);
    };
    for (const name of ['train', 'val']) {
      const x = cached(onnx, name), y = cached(cuda, name);
      expect(y.length).toBe(x.length);
      expect(y.length).toBe((name === 'train' ? 30 : 6) * 48);
      expect(compare(y, x).rel, name).toBeLessThan(1e-5);
    }
    const la = csvRows(join(onnx, 'steps.csv')), lb = csvRows(join(cuda, 'steps.csv'));
    expect(lb.map((r) => r.slice(0, 2))).toEqual(la.map((r) => r.slice(0, 2)));
    lb.forEach((r, i) => expect(Math.abs(r[2]! - la[i]![2]!)).toBeLessThan(1e-5));
  }, 60_000);

  it('--resume continues an interrupted run (js target) to the same weights as an uninterrupted one', async () => {
    const base = (out: string): FinetuneOptions => ({
      spec, weights, data, out, target: 'js', precision: 'fp32', epochs: 3, batchSize: 6, lr: 0.03, lrf: 0.1, momentum: 0.9, weightDecay: 4e-5, seed: 5, augment: true, resume: false, threads: 1,
    });
    const quiet = { out: () => {}, err: () => {} };
    const whole = await finetune(base(join(root, 'whole')), quiet);
    const cut = join(root, 'cut');
    let epochs = 0;
    // Interrupted right after the second epoch was saved (as Ctrl-C or a crash would leave it).
    await expect(finetune(base(cut), { out: (s) => { if (s.startsWith('epoch') && ++epochs === 2) throw new Error('interrupted'); }, err: () => {} })).rejects.toThrow('interrupted');
    expect(readState(cut).rows).toHaveLength(2);
    const lines: string[] = [], errs: string[] = [];
    const resumed = await finetune({ ...base(cut), resume: true }, { out: (s) => lines.push(s), err: (s) => errs.push(s) });
    expect(lines[0]).toMatch(/^epoch 3\/3:/);
    // The validation features come from the run's cache.
    expect(errs.filter((l) => l.startsWith('val features: '))).toEqual([expect.stringMatching(/^val features: from .*cache\/val-[0-9a-f]{24}\.safetensors$/)]);
    expect(resumed.rows.map((r) => ({ ...r, seconds: 0 }))).toEqual(whole.rows.map((r) => ({ ...r, seconds: 0 })));
    expect(readState(cut).params).toEqual(readState(join(root, 'whole')).params);
    expect(readFileSync(join(cut, 'best.safetensors')).equals(readFileSync(join(root, 'whole', 'best.safetensors')))).toBe(true);
  }, 60_000);
});

describe('vitc finetune: Ctrl-C', () => {
  it('stops cleanly on SIGINT: exit 130, the temporary build removed, the finished epochs kept for --resume', async () => {
    const out = join(root, 'interrupted');
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    const child = spawn(process.execPath, ['bin/vitc.js', 'finetune', spec, '--weights', weights, '--data', data, '-o', out, '--epochs', '1000', '--batch-size', '30', '--threads', '1'], { env: { ...process.env, TMPDIR: tmp } });
    let stdout = '', stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((done) => {
      child.stdout.on('data', (d: Buffer) => { if (!stdout) child.kill('SIGINT'); stdout += d.toString(); });
      child.on('close', (c) => done(c));
    });
    expect(code).toBe(130);
    const m = /vitc finetune: stopped by SIGINT; (.*) keeps the state after epoch (\d+): continue with --resume\n$/.exec(stderr);
    expect(m?.[1]).toBe(out);
    expect(readState(out).rows).toHaveLength(Number(m![2]));
    // The backbone's build (vitc-run-*) is gone; other programs' files in TMPDIR are not ours to judge.
    expect(readdirSync(tmp).filter((n) => n.startsWith('vitc-'))).toEqual([]);
  }, 60_000);

  it('removes the backbone\'s temporary build on Ctrl-C while the build compiles (g++ for cuda here, nvcc on a GPU)', async () => {
    const out = join(root, 'interrupted-build');
    const tmp = join(root, 'tmp-build');
    mkdirSync(tmp);
    // A process group of its own, signalled as a whole, as a terminal's Ctrl-C does (make and g++ stop too).
    const child = spawn(process.execPath, ['bin/vitc.js', 'finetune', spec, '--weights', weights, '--data', data, '-o', out, '-t', 'cuda', '--epochs', '1'], { env: { ...process.env, TMPDIR: tmp }, detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const closed = new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    const building = () => readdirSync(tmp).some((n) => n.startsWith('vitc-run-'));
    while (!building() && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    expect(building()).toBe(true);
    process.kill(-child.pid!, 'SIGINT');
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/vitc finetune: stopped by SIGINT; no epoch had finished\n$/);
    expect(readdirSync(tmp).filter((n) => n.startsWith('vitc-run-'))).toEqual([]);
    expect(existsSync(join(out, 'state.json'))).toBe(false);
  }, 60_000);
});

describe('vitc finetune: bad input is one line', () => {
  const run = (...args: string[]) => vitc('finetune', spec, '--weights', weights, '--epochs', '1', ...args);

  it('skips a non-image file with a warning that names it', async () => {
    const d = join(root, 'with-junk');
    await makeImageFolder(d, { classes: CLASSES, perClass: 5, minSide: 32, maxSide: 40, seed: 1 });
    writeFileSync(join(d, 'circle', 'notes.txt'), 'not a photo');
    writeFileSync(join(d, 'square', 'fake.jpg'), 'not a jpeg either');
    writeFileSync(join(d, 'LICENSE.txt'), 'licence');
    // What a Mac or a notebook leaves: one warning for all, not a line each (nor a class ".ipynb_checkpoints").
    for (const c of CLASSES) writeFileSync(join(d, c, '.DS_Store'), 'finder');
    writeFileSync(join(d, 'circle', '._00.jpg'), 'apple double');
    mkdirSync(join(d, '.ipynb_checkpoints'));
    const r = await run('--data', d, '-o', join(root, 'junk-run'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${d}: warning: skipped ${CLASSES.length + 2} hidden entries (names starting with "."): .ipynb_checkpoints, ${join(CLASSES[0]!, '.DS_Store')}, `);
    expect(r.stderr).not.toMatch(/DS_Store: warning/);
    expect(r.stderr).toContain(`${join(d, 'LICENSE.txt')}: warning: skipped: not a class folder (--data holds one folder of images per class)`);
    expect(r.stderr).toContain(`${join(d, 'circle', 'notes.txt')}: warning: skipped: not a .jpg, .JPG, .png, .PNG file, the kinds the tutorial's read_split_data takes`);
    expect(r.stderr).toContain(`${join(d, 'square', 'fake.jpg')}: warning: skipped: not an image (it does not start like a JPEG or a PNG)`);
  }, 30_000);

  it('--help lists the targets that output the features; another target is refused, naming them', async () => {
    const help = await vitc('finetune', '--help');
    expect(help.stdout).toContain('the backbone\'s runtime, a target that outputs the features (js, onnx, cuda):');
    for (const t of ['onnx (default)', 'cuda: model.cu on an NVIDIA GPU', 'js: ']) expect(help.stdout).toContain(t);
    // Every file a run directory holds (the first test lists them) is described.
    for (const f of ['best.safetensors', 'class_indices.json', 'log.csv', 'steps.csv', 'state.json', 'cache/']) expect(help.stdout).toMatch(new RegExp(`^  ${f.replace('.', '\\.')} +\\S`, 'm'));
    const r = await run('--data', data, '-o', join(root, 'x-wgsl'), '-t', 'wgsl');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: the wgsl target does not output the features yet (targets with features: js, onnx, cuda)');
    expect(existsSync(join(root, 'x-wgsl'))).toBe(false);
  }, 30_000);

  it('says what --data is when it is not a folder', async () => {
    const file = join(root, 'a-file.txt');
    writeFileSync(file, 'x');
    const cases: [string, string][] = [
      [join(root, 'no-such'), 'no such folder'],
      [file, 'not a folder but a file: --data takes a folder with one sub-folder of images per class'],
      ['/dev/zero', 'not a folder but a character device: --data takes a folder with one sub-folder of images per class'],
    ];
    for (const [path, message] of cases) {
      const r = await run('--data', path, '-o', join(root, 'x0'));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${path}: error: ${message}`);
    }
    expect(existsSync(join(root, 'x0'))).toBe(false);
  }, 30_000);

  it('refuses an empty class folder, a single class and a head that disagrees with the folders', async () => {
    const empty = join(root, 'empty-class');
    await makeImageFolder(empty, { classes: ['a', 'b'], perClass: 5, minSide: 32, maxSide: 40, seed: 2 });
    mkdirSync(join(empty, 'c'));
    let r = await run('--data', empty, '-o', join(root, 'x1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(empty, 'c')}: error: the class folder "c" has no images (every class needs images to train on; add .jpg/.JPG/.png/.PNG files or remove the folder)`);

    const one = join(root, 'one-class');
    await makeImageFolder(one, { classes: ['only'], perClass: 5, minSide: 32, maxSide: 40, seed: 3 });
    r = await run('--data', one, '-o', join(root, 'x2'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${one}: error: only one class folder ("only"): a classifier needs at least two classes (add a folder of images for each other class)`);

    const two = join(root, 'two-classes');
    await makeImageFolder(two, { classes: ['a', 'b'], perClass: 5, minSide: 32, maxSide: 40, seed: 4 });
    r = await run('--data', two, '-o', join(root, 'x3'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${spec}:3:14: error: num_classes is 3, but ${two} has 2 class folders (a, b) (set num_classes: 2)`);
    // An inherited num_classes (here _tiny.yaml's 10): the edit belongs in the spec the user gave.
    const base = resolve('spec/tiny/tiny-base.yaml');
    r = await vitc('finetune', base, '--weights', weights, '--epochs', '1', '--data', two, '-o', join(root, 'x4'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`spec/tiny/_tiny.yaml:6:14: error: num_classes is 10, but ${two} has 2 class folders (a, b) (set num_classes: 2 in spec/tiny/tiny-base.yaml; this value comes from spec/tiny/_tiny.yaml, which it extends)`);
    for (const x of ['x1', 'x2', 'x3', 'x4']) expect(existsSync(join(root, x))).toBe(false);
  }, 30_000);

  it('says what to give --data for a tree split into train/ and val/, a folder around the class folders and images one level too deep', async () => {
    const tree = join(root, 'hymenoptera');
    await makeImageFolder(join(tree, 'train'), { classes: ['ants', 'bees'], perClass: 5, minSide: 32, maxSide: 40, seed: 5 });
    await makeImageFolder(join(tree, 'val'), { classes: ['ants', 'bees'], perClass: 2, minSide: 32, maxSide: 40, seed: 6 });
    let r = await run('--data', tree, '-o', join(root, 'x5'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${tree}: error: the folders in --data (train, val) hold folders (ants, bees), not images: --data takes one folder of images per class, and vitc finetune samples 20 % of each class for validation itself, as the tutorial's read_split_data does (for a tree split into train/ and val/, give --data ${join(tree, 'train')} (its own 20 % become the validation images), or merge each class's images into one folder)`);

    // flower_photos.tgz unpacked into a folder of its own.
    const around = join(root, 'unpacked');
    await makeImageFolder(join(around, 'flower_photos'), { classes: ['daisy', 'roses'], perClass: 5, minSide: 32, maxSide: 40, seed: 7 });
    r = await run('--data', around, '-o', join(root, 'x6'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${around}: error: only one class folder ("flower_photos"): a classifier needs at least two classes (it holds folders (daisy, roses): give --data ${join(around, 'flower_photos')})`);

    const deep = join(root, 'too-deep');
    await makeImageFolder(deep, { classes: ['a', 'b', 'c'], perClass: 5, minSide: 32, maxSide: 40, seed: 8 });
    await makeImageFolder(join(deep, 'c'), { classes: ['2024'], perClass: 5, minSide: 32, maxSide: 40, seed: 9 });
    for (const f of readdirSync(join(deep, 'c'))) if (f !== '2024') rmSync(join(deep, 'c', f));
    r = await run('--data', deep, '-o', join(root, 'x7'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(deep, 'c')}: error: the class folder "c" has no images, only folders (2024): the images of a class are read from its folder alone, not from folders inside it (move the images up into the class folder)`);
    for (const x of ['x5', 'x6', 'x7']) expect(existsSync(join(root, x))).toBe(false);
  }, 30_000);

  it('refuses full fine-tuning, bad values, a run directory in use and a resume with other settings', async () => {
    let r = await run('--data', data, '--freeze-layers', 'false');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --freeze-layers false \(training every layer\) is not supported: vitc computes no gradients through the backbone yet \(/);
    r = await run('--data', data, '--lr', '0');
    expect(r.stderr).toBe('error: vitc finetune: --lr must be a number > 0; got "0"');
    r = await run('--data', data, '--momentum', '1');
    expect(r.stderr).toBe('error: vitc finetune: --momentum must be a number >= 0 and < 1; got "1"');
    // More threads than CPUs only makes them wait on each other (999 took each epoch from 0.1 s to 46 s).
    r = await run('--data', data, '--threads', '999');
    expect(r.stderr).toBe(`error: vitc finetune: --threads must be an integer from 1 to ${availableParallelism()} (the CPUs this machine has); got "999"`);
    r = await run('--data', data, '--serve', 'triton');
    expect([r.code, r.stderr]).toEqual([1, 'error: --serve shapes only the files of a build directory, and vitc finetune keeps no build directory of its backbone (for those files: vitc build SPEC --target onnx --serve triton -o DIR)']);
    r = await vitc('finetune', spec, '--data', data);
    expect(r.stderr).toBe('error: vitc finetune: --weights is required (the pre-trained backbone) (see vitc finetune --help)');
    const out = join(root, 'in-use');
    expect((await run('--data', data, '-o', out, '--no-augment')).code).toBe(0);
    r = await run('--data', data, '-o', out, '--no-augment');
    expect(r.stderr).toBe(`error: ${out} already holds a run (continue it with --resume, or choose another -o)`);
    r = await run('--data', data, '-o', out, '--no-augment', '--resume', '--lr', '0.02');
    expect(r.stderr).toBe(`error: --resume: the run in ${out} was made with --lr 0.01 (now 0.02) (resume with the same settings, or start a new run in another directory)`);
    r = await run('--data', data, '-o', out, '--no-augment', '--resume');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${out}: all 1 epochs are done; best val acc ${readState(out).best!.val_acc.toFixed(3)} at epoch 1 (${join(out, 'best.safetensors')})`);
    // A run folder inside --data would be a class folder of the next run (and of --resume).
    r = await run('--data', data, '-o', join(data, 'run'));
    expect(r.stderr).toBe(`error: the run's folder ${join(data, 'run')} is inside --data ${data}, where --resume and later runs would read it as a class folder (choose an -o outside ${data}, e.g. -o ${join(root, 'runs', 'shapes')})`);
    expect(existsSync(join(data, 'run'))).toBe(false);
    r = await run('--data', data, '-o', data);
    expect(r.stderr).toBe(`error: the run's folder ${data} is the --data folder itself (choose an -o outside ${data}, e.g. -o ${join(root, 'runs', 'shapes')})`);
    r = await run('--data', data, '-o', join(root, 'nothing-here'), '--resume');
    expect(r.stderr).toBe(`error: --resume: ${join(root, 'nothing-here')} holds no run to continue (no state.json) (start the run without --resume)`);
  }, 60_000);
});
