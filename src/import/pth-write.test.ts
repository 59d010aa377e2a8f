// The .pth writer: vitc reads back what it writes, byte-identical on every run, and PyTorch's own
// torch.load (weights_only=True, Debian's python3-torch) reads it too.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAsync, tempDir } from '../../test/helpers.js';
import { importWeights } from './index.js';
import { writePth } from './pth-write.js';
import { parseSafetensors, tensorToFloat32 } from '../runtime/safetensors.js';
import { toBf16, toHalf } from '../runtime/dtype.js';
import type { RawTensor } from './tensor.js';

const values = Float32Array.from({ length: 24 }, (_, i) => (i - 7) / 3);
const tensors: [string, RawTensor][] = [
  ['blocks.0.attn.qkv.weight', { dtype: 'F32', shape: [4, 6], bytes: new Uint8Array(values.buffer) }],
  ['head.bias', { dtype: 'F16', shape: [24], bytes: new Uint8Array(toHalf(values).buffer) }],
  ['norm.weight', { dtype: 'BF16', shape: [2, 3, 4], bytes: new Uint8Array(toBf16(values).buffer) }],
];

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('writePth', () => {
  it('writes the same bytes every time, and vitc reads back every dtype', async () => {
    const bytes = writePth(tensors, 'model-9');
    expect(writePth(tensors, 'model-9')).toEqual(bytes);
    const file = join(tempDir(), 'model-9.pth');
    writeFileSync(file, bytes);
    const back = parseSafetensors((await importWeights(file)).bytes);
    for (const [name, t] of tensors) {
      expect(back[name]!.dtype).toBe(t.dtype);
      expect(back[name]!.shape).toEqual(t.shape);
      expect(back[name]!.bytes).toEqual(t.bytes);
    }
    expect(tensorToFloat32(back['blocks.0.attn.qkv.weight']!)).toEqual(values);
  });
  it.skipIf(!hasTorch && !process.env.CI)('is read by torch.load(weights_only=True)', async () => {
    const file = join(tempDir(), 'model-9.pth');
    writeFileSync(file, writePth(tensors, 'model-9'));
    const code = `import sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
print(type(sd).__name__, [(k, str(v.dtype), list(v.shape)) for k, v in sd.items()])
x = torch.tensor([(i - 7) / 3 for i in range(24)])
print(torch.equal(sd['blocks.0.attn.qkv.weight'].flatten(), x), torch.equal(sd['head.bias'], x.half()), torch.equal(sd['norm.weight'].flatten(), x.bfloat16()))
`;
    const r = await runAsync(PY, ['-c', code, file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`OrderedDict [('blocks.0.attn.qkv.weight', 'torch.float32', [4, 6]), ('head.bias', 'torch.float16', [24]), ('norm.weight', 'torch.bfloat16', [2, 3, 4])]\nTrue True True\n`);
  });
});
