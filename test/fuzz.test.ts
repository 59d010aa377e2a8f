// A seeded fuzz of bad input through the CLI: mutated specs, model-language files, safetensors
// weights, .pth checkpoints, photos and .npy inputs. Every run must end with exit 0 or 1 (never an internal error), report
// each problem on one line with no stack trace, and change nothing outside its output directory.
// Bounded: a fixed number of cases per kind, and at most FUZZ_CPU_SECONDS of CPU in all
// (VITC_FUZZ_REPORT=1 prints how many ran and the CPU they took). A longer campaign:
// VITC_FUZZ_SEED=7 VITC_FUZZ_SCALE=10 npx vitest run test/fuzz.test.ts (10x the cases and the CPU).
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { vitc, tempDir, type CliResult } from './helpers.js';
import sharp from 'sharp';
import { writeNpy } from '../src/weights/npy.js';
import { openZip } from '../src/import/zip.js';
import { writeZip, type ZipMember } from '../src/import/zip-write.js';

const SEED = Number(process.env.VITC_FUZZ_SEED ?? 0x5eed2026);
const SCALE = Number(process.env.VITC_FUZZ_SCALE ?? 1);
const FUZZ_CPU_SECONDS = 50 * SCALE;
const CASES = Object.fromEntries(Object.entries({ spec: 600, vit: 600, weights: 240, pth: 240, image: 80, npy: 240 }).map(([k, n]) => [k, Math.round(n * SCALE)])) as Record<'spec' | 'vit' | 'weights' | 'pth' | 'image' | 'npy', number>;

/** mulberry32: a small seeded generator. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
const rng = generator(SEED);

// ---- what mutations draw from ----

const NUMBERS = ['0', '-1', '1', '3', '7', '48', '2147483648', '99999999999999999999', '1e300', '1e99999', '1e-400', '-0', '0.5', '2 ** 1024', '2 ** 60', '1000000000', '65536'];
const YAML_VALUES = [...NUMBERS.filter((n) => !n.includes('*')), '.inf', '-.inf', '.nan', '0x10', '"x"', '""', '[]', '{}', 'null', 'true', '[1, 2, 3]', '[32, 0]',
  '"/dev/zero"', '"../../../../etc/passwd"', '"\\u2028\\u0007"', `"${'a'.repeat(3000)}"`, '{__proto__: {depth: 9}}', '&a [*a]', '!!binary aGVsbG8=', '"blocks/parallel.vit#parallel_block"', '"b.vit#nope"'];
const YAML_KEYS = ['img_size', 'patch_size', 'in_chans', 'num_classes', 'embed_dim', 'depth', 'num_heads', 'mlp_ratio', 'qkv_bias', 'qk_scale', 'representation_size',
  'distilled', 'norm_eps', 'act_layer', 'class_token', 'global_pool', 'fc_norm', 'pos_embed', 'init_values', 'block', 'labels', 'extends', 'preprocess', 'backbone',
  '__proto__', 'constructor', 'toString', 'drop_rate', 'name'];
const SPEC = 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: 4\npreprocess:\n  mean: [0.5, 0.5, 0.5]\n  std: [0.5, 0.5, 0.5]\n';

const VIT = `import "nn.vit"

block b(x: tensor, num_heads: int, mlp_hidden: int, qkv_bias: bool, scale: float, eps: float, act: str, init_values: float?) -> tensor {
  h = LayerNorm(x, eps) as norm1
  a = Attention(h, num_heads, qkv_bias, scale) as attn
  x = x + a
  if init_values != none {
    x = x * 1.0
  }
  repeat 1 as extra {
    x = x + 0
  }
  m = Mlp(LayerNorm(x, eps) as norm2, mlp_hidden, act) as mlp
  return x + m
}
`;
const VIT_TOKENS = ['(', ')', '[', ']', '{', '}', ',', ':', '=', '+', '-', '*', '/', '//', '**', '@', '.', '?', '->', 'not', 'and', 'or', 'if', 'else', 'repeat', 'as',
  'return', 'param', 'input', 'block', 'model', 'import', 'none', 'true', 'x', 'h', 'B', '"s"', '\n', ';', '#c\n', 'é', '\u2028', '\u0000', ...NUMBERS];
const VIT_LINES = [
  ...['Linear(x, N)', 'sincos_2d(N, N, N)', 'reshape(x, [B, N, -1])', 'transpose(x, N, N)', 'softmax(x, axis = N)', 'mean(x, N)', 'x[:, N:N]', 'x[N]',
    'split_heads(x, N, N)', 'expand(x, [B, N, N])', 'concat([x, x], axis = N)', 'size(x, N)', 'layernorm(x, eps = N)', 'int(N)', 'sqrt(N)', 'log(N)', 'exp(N)',
    'activation("nope", x)', 'LayerScale(x, N) as ls', 'Linear(x, N) as norm1'].map((e) => `  y = ${e}`),
  '  repeat N { x = x }', '  repeat N as blocks { y = Linear(x, 48) as fc }', '  param w: [N, N] = normal(N)', '  param w: [N] = uniform(N, N)', '  return x',
  '  x = b(x, num_heads, mlp_hidden, qkv_bias, scale, eps, act, init_values)', `  y = ${'('.repeat(40)}x${')'.repeat(40)}`, `  y = ${Array(300).fill('x').join(' + ')}`,
  `  y = ${'- '.repeat(500)}x`, `  y = Linear(x, 4) as ${Array(2000).fill('a').join('.')}`, `  y = Attention(x, N, true, 0.5) as ${Array(10000).fill('a').join('.')}`, '  input z: [B, N]', '  x, y = x',
];

// ---- mutations ----

const withN = (s: string) => s.replace(/N/g, () => rng.pick(NUMBERS));

function mutateText(text: string, kind: 'spec' | 'vit'): string {
  const lines = text.split('\n');
  const at = () => rng.int(lines.length);
  for (let k = 1 + rng.int(3); k > 0; k--) {
    switch (rng.int(kind === 'spec' ? 7 : 6)) {
      case 0: lines.splice(at(), 1); break;
      case 1: { const i = at(); lines.splice(i, 0, lines[i] ?? ''); break; }
      case 2: { // a character or token in the middle of a line
        const i = at(); const l = lines[i] ?? ''; const p = rng.int(l.length + 1);
        const tok = kind === 'vit' ? rng.pick(VIT_TOKENS) : rng.pick([':', '-', '[', ']', '{', '}', '"', "'", '#', '&', '*', '!', '\t', '\u0000', '\u2028', ' ', 'é']);
        lines[i] = l.slice(0, p) + (rng.int(4) === 0 ? tok.repeat(1 + rng.int(300)) : tok) + l.slice(p + rng.int(3));
        break;
      }
      case 3: return lines.join('\n').slice(0, rng.int(text.length)); // truncated
      case 4: // a new line
        if (kind === 'vit') lines.splice(3 + rng.int(Math.max(1, lines.length - 5)), 0, withN(rng.pick(VIT_LINES)));
        else lines.push(`${rng.pick(YAML_KEYS)}: ${rng.pick(YAML_VALUES)}`);
        break;
      case 5: // a number replaced
        for (let i = 0; i < 3; i++) {
          const j = at();
          const m = /\d+(\.\d+)?/.exec(lines[j] ?? '');
          if (m) { lines[j] = lines[j]!.replace(m[0], rng.pick(NUMBERS)); break; }
        }
        break;
      case 6: { // a key's value replaced
        const j = at();
        if (/^\w+:/.test(lines[j] ?? '')) lines[j] = `${lines[j]!.split(':')[0]}: ${rng.pick(YAML_VALUES)}`;
        break;
      }
    }
  }
  return lines.join('\n');
}

function mutateSafetensors(good: Uint8Array): Uint8Array {
  const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(good.subarray(8, 8 + n)).toString('utf8')) as Record<string, { dtype: unknown; shape: unknown; data_offsets: unknown[] }>;
  const data = good.subarray(8 + n);
  const names = Object.keys(header);
  const t = header[rng.pick(names)]!;
  let extra = 0;
  switch (rng.int(12)) {
    case 0: return good.subarray(0, rng.int(good.length));
    case 1: { const b = new Uint8Array(good); for (let k = 0; k < 4; k++) b[rng.int(Math.min(b.length, 8 + n))] = rng.int(256); return b; }
    case 2: return new Uint8Array(rng.int(200)).map(() => rng.int(256));
    case 3: t.data_offsets = t.data_offsets.map(String); break;
    case 4: t.data_offsets = [Number(t.data_offsets[0]) + 0.5, t.data_offsets[1]]; break;
    case 5: t.data_offsets = [Number(t.data_offsets[0]) + 4, Number(t.data_offsets[1]) + 4]; break;
    case 6: extra = 1 + rng.int(64); break;
    case 7: t.dtype = rng.pick(['F8', 'constructor', 7, null, 'I64', 'BF16']); break;
    case 8: t.shape = rng.pick([[-1], [1.5], ['3'], null, [2 ** 40, 2 ** 40], []]); break;
    case 9: delete header[rng.pick(names)]; break;
    case 10: (header as Record<string, unknown>)[rng.pick(['__proto__', 'constructor', '__metadata__', 'x'.repeat(5000)])] = rng.pick([{ dtype: 'F32', shape: [1], data_offsets: [0, 4] }, { a: 1 }, 'str', null]); break;
    case 11: (header as Record<string, unknown>).__metadata__ = rng.pick([{ a: 1 }, [], 'x', { format: 'pt' }]); break;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length + extra);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Pickle opcodes a mutation inserts: marks, stack and memo operations, containers, globals, calls. */
const PICKLE_OPS = [0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4b, 0x4d, 0x4a, 0x58, 0x5d, 0x7d, 0x71, 0x68, 0x52, 0x62, 0x63, 0x85, 0x86, 0x87, 0x8c, 0x94, 0x95,
  0x80, 0x88, 0x89, 0x8a, 0x43, 0x42, 0x55, 0x54, 0x73, 0x75, 0x61, 0x65, 0x74, 0x6c, 0x64, 0x51, 0x47, 0x46, 0x4c, 0x56];

/** A checkpoint with its archive's bytes changed, or its pickle mutated and the members zipped again. */
function mutatePth(archive: Uint8Array, members: readonly ZipMember[]): Uint8Array {
  if (rng.int(4) === 0) {
    const b = new Uint8Array(archive);
    for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
    return rng.int(5) === 0 ? b.subarray(0, rng.int(b.length)) : b;
  }
  const pkl = members.find((m) => m.name.endsWith('/data.pkl'))!;
  let p = new Uint8Array(pkl.bytes);
  const splice = (at: number, remove: number, insert: Uint8Array) => {
    const q = new Uint8Array(p.length - remove + insert.length);
    q.set(p.subarray(0, at));
    q.set(insert, at);
    q.set(p.subarray(at + remove), at + insert.length);
    p = q;
  };
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const at = rng.int(p.length);
    switch (rng.int(5)) {
      case 0: p[at] = rng.int(256); break;
      case 1: p = p.subarray(0, at); break;
      case 2: splice(at, 0, Uint8Array.of(rng.pick(PICKLE_OPS))); break;
      case 3: splice(at, 0, p.slice(rng.int(p.length)).subarray(0, rng.int(40))); break; // a stretch repeated
      case 4: splice(at, Math.min(rng.int(60), p.length - at), new Uint8Array(0)); break;
    }
  }
  const out = members.map((m) => (m === pkl ? { name: m.name, bytes: p } : m));
  if (rng.int(6) === 0) out.splice(1 + rng.int(out.length - 1), 1); // a storage missing
  if (rng.int(6) === 0) { const j = 1 + rng.int(out.length - 1); out[j] = { name: out[j]!.name, bytes: out[j]!.bytes.subarray(0, rng.int(out[j]!.bytes.length)) }; }
  return writeZip(out);
}

/** A photo with bytes changed, cut short or pushed apart, often in its header. */
function mutateImage(good: Uint8Array): Uint8Array {
  let b = new Uint8Array(good);
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const at = rng.int(b.length);
    switch (rng.int(4)) {
      case 0: b[at] = rng.int(256); break;
      case 1: b = b.subarray(0, at); break;
      case 2: { const q = new Uint8Array(b.length + 8); q.set(b.subarray(0, at)); q.set(b.subarray(at), at + 8); b = q; break; }
      case 3: b[rng.int(Math.min(b.length, 64))] = rng.pick([0, 0x7f, 0x80, 0xff]); break;
    }
  }
  return b;
}

function mutateNpy(good: Uint8Array): Uint8Array {
  const b = new Uint8Array(good);
  const hlen = new DataView(b.buffer).getUint16(8, true);
  switch (rng.int(7)) {
    case 0: return b.subarray(0, rng.int(b.length));
    case 1: b[6] = rng.pick([0, 2, 3, 4, 255]); b[7] = rng.pick([0, 0, 5]); return b;
    case 2: { const out = new Uint8Array(b.length + 1 + rng.int(64)); out.set(b); return out; }
    case 3: new DataView(b.buffer).setUint16(8, rng.int(65536), true); return b;
    default: { // the header text, mutated and padded back to its length
      const header = Buffer.from(b.subarray(10, 10 + hlen)).toString('latin1');
      const pieces = ["'descr': '<f8'", "'shape': (0x1, 3, 32, 32)", "'shape': (1.0, 3, 32, 32)", "'shape': (-1, 3, 32, 32)", "'fortran_order': True", "'x': 1", '"descr": "<f4"', '{', '}', '(', ')', ',', "'", '"', '\\', 'L', '0'];
      let h = header.trimEnd();
      for (let k = 1 + rng.int(3); k > 0; k--) { const p = rng.int(h.length); h = h.slice(0, p) + rng.pick(pieces) + h.slice(p + rng.int(6)); }
      const padded = Buffer.from(h.length < hlen ? h + ' '.repeat(hlen - h.length - 1) + '\n' : h, 'latin1');
      const out = new Uint8Array(10 + padded.length + (b.length - 10 - hlen));
      out.set(b.subarray(0, 10));
      new DataView(out.buffer).setUint16(8, padded.length, true);
      out.set(padded, 10);
      out.set(b.subarray(10 + hlen), 10 + padded.length);
      return out;
    }
  }
}

// ---- the checks ----

/** Every file under `dir` but `skip`, with its size and modification time. */
function snapshot(dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === skip) continue;
      if (e.isDirectory()) { out.set(relative(dir, p) + '/', 'dir'); walk(p); } else {
        const st = statSync(p);
        out.set(relative(dir, p), `${st.size}:${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out;
}

/** A small real torch.save checkpoint (the flowers fixture of test/import.test.ts). */
const PTH = 'test/fixtures/import/model.pth';

const DIAGNOSTIC = /^(\S.*?: )?(error|warning|note): \S/;

/** What is wrong with a run's result, if anything. */
function problem(r: CliResult): string | undefined {
  if (r.code !== 0 && r.code !== 1) return `exit ${r.code}`;
  if (/internal error|^\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) return 'an internal error or a stack trace';
  if (r.code === 1) {
    const lines = r.stderr.split('\n');
    if (!lines.some((l) => DIAGNOSTIC.test(l) && / error: |^error: /.test(l))) return 'exit 1 without an error line';
    const bad = lines.find((l) => l.length === 0 || l.length > 1500 || (/error/.test(l) && !DIAGNOSTIC.test(l)));
    if (bad !== undefined) return `a line that is not one diagnostic: ${JSON.stringify(bad.slice(0, 200))}`;
  }
  return undefined;
}

describe(`fuzz (seed ${SEED.toString(16)})`, { timeout: 120_000 * Math.max(1, SCALE) }, () => {
  const root = tempDir('vitc-fuzz-');
  const out = join(root, 'out');
  const build = join(root, 'build');
  let goodWeights: Uint8Array;
  let goodInput: Uint8Array;
  let goodPth: Uint8Array;
  let pthMembers: ZipMember[];
  let goodImages: Uint8Array[];
  const cpu0 = process.cpuUsage();
  const cpuSeconds = () => { const u = process.cpuUsage(cpu0); return (u.user + u.system) / 1e6; };
  const cwdBefore = readdirSync(process.cwd()).sort();
  beforeAll(async () => {
    mkdirSync(out);
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', build)).code).toBe(0);
    expect((await vitc('weights', 'spec/tiny/tiny-base.yaml', '-o', join(root, 'good.safetensors'))).code).toBe(0);
    goodWeights = new Uint8Array(readFileSync(join(root, 'good.safetensors')));
    goodInput = writeNpy([1, 3, 32, 32], new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i)));
    goodPth = new Uint8Array(readFileSync(PTH));
    const zip = await openZip(PTH);
    pthMembers = await Promise.all(zip.names.map(async (name) => ({ name, bytes: await zip.read(name) })));
    zip.close();
    const photo = sharp('test/fixtures/import/photos/chelsea.jpg').resize(40, 30);
    goodImages = await Promise.all([photo.clone().jpeg(), photo.clone().jpeg({ progressive: true }), photo.clone().png(), photo.clone().png({ palette: true }),
      photo.clone().webp(), photo.clone().gif(), photo.clone().tiff()].map(async (p) => new Uint8Array(await p.toBuffer())));
  });

  /** Run each case; the first failure is reported with the seed, the case and its input. */
  async function fuzz(kind: keyof typeof CASES, make: (i: number) => { files: Record<string, string | Uint8Array>; argv: string[] }): Promise<number> {
    let ran = 0;
    const exits = [0, 0];
    for (let i = 0; i < CASES[kind] && cpuSeconds() < FUZZ_CPU_SECONDS; i++, ran++) {
      const c = make(i);
      for (const [f, v] of Object.entries(c.files)) writeFileSync(join(root, f), v);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      const before = snapshot(root, out);
      const r = await vitc(...c.argv);
      exits[r.code] = (exits[r.code] ?? 0) + 1;
      const wrong = problem(r) ?? (JSON.stringify([...snapshot(root, out)]) !== JSON.stringify([...before]) ? 'a file outside the output directory changed' : undefined);
      if (wrong) {
        const shown = Object.fromEntries(Object.entries(c.files).map(([f, v]) => [f, typeof v === 'string' ? v.slice(0, 3000) : `${v.length} bytes: ${Buffer.from(v.subarray(0, 400)).toString('latin1')}`]));
        expect.fail(`${kind} case ${i} (seed ${SEED.toString(16)}): ${wrong}\nvitc ${c.argv.join(' ')}\nexit ${r.code}\nstderr: ${r.stderr.slice(0, 2000)}\nfiles: ${JSON.stringify(shown, null, 1)}`);
      }
    }
    if (process.env.VITC_FUZZ_REPORT) console.log(`fuzz ${kind}: ${ran} of ${CASES[kind]} cases (exit 0: ${exits[0]}, exit 1: ${exits[1]}), ${cpuSeconds().toFixed(1)} s of CPU so far`);
    return ran;
  }

  it('mutated specs: check, build and inspect', async () => {
    const ran = await fuzz('spec', (i) => ({
      files: { 's.yaml': mutateText(SPEC, 'spec'), 'base.yaml': mutateText(SPEC, 'spec') },
      argv: i % 3 === 0 ? ['build', join(root, 's.yaml'), '-o', join(out, 'b')] : i % 3 === 1 ? ['check', join(root, 's.yaml')] : ['inspect', join(root, 's.yaml')],
    }));
    expect(ran).toBeGreaterThan(20);
  });
  it('mutated model-language files, used as a spec\'s block', async () => {
    writeFileSync(join(root, 'v.yaml'), `${SPEC}block: b.vit#b\n`);
    const ran = await fuzz('vit', (i) => ({
      files: { 'b.vit': mutateText(VIT, 'vit') },
      argv: i % 4 === 0 ? ['build', join(root, 'v.yaml'), '-o', join(out, 'b')] : i % 4 === 1 ? ['fmt', join(root, 'b.vit')] : ['check', join(root, 'v.yaml')],
    }));
    expect(ran).toBeGreaterThan(20);
  });
  it('mutated safetensors weights', async () => {
    const ran = await fuzz('weights', (i) => ({
      files: { 'w.safetensors': mutateSafetensors(goodWeights), 'x.npy': goodInput },
      argv: i % 2 ? ['run', build, '--weights', join(root, 'w.safetensors'), '--input', join(root, 'x.npy'), '--output', join(out, 'y.npy'), '--top', '1'] : ['build', 'spec/tiny/tiny-base.yaml', '--weights', join(root, 'w.safetensors'), '-o', join(out, 'b')],
    }));
    expect(ran).toBeGreaterThan(10);
  });
  it('mutated .pth checkpoints', async () => {
    const ran = await fuzz('pth', (i) => ({
      files: { 'c.pth': mutatePth(goodPth, pthMembers) },
      argv: i % 3 === 2 ? ['run', 'test/fixtures/import/flowers.yaml', '--weights', join(root, 'c.pth'), '--input', 'test/fixtures/import/input.npy', '--top', '1'] : ['convert', join(root, 'c.pth'), '-o', join(out, 'w.safetensors')],
    }));
    expect(ran).toBeGreaterThan(10);
  });
  it('mutated photos: JPEG (baseline and progressive), PNG (RGB and palette), WebP, GIF, TIFF', async () => {
    const ran = await fuzz('image', () => ({
      files: { 'p.img': mutateImage(rng.pick(goodImages)) },
      argv: ['run', 'spec/tiny/tiny-base.yaml', '--image', join(root, 'p.img'), '--top', '1'],
    }));
    expect(ran).toBeGreaterThan(10);
  });
  it('mutated .npy inputs', async () => {
    const ran = await fuzz('npy', () => ({
      files: { 'x.npy': mutateNpy(goodInput) },
      argv: ['run', build, '--input', join(root, 'x.npy'), '--output', join(out, 'y.npy'), '--top', '1'],
    }));
    expect(ran).toBeGreaterThan(10);
  });
  it('left the working directory as it was', () => {
    expect(readdirSync(process.cwd()).sort()).toEqual(cwdBefore);
  });
});
