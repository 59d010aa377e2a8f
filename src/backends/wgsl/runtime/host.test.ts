// The host's choices at load: tile sizes within the adapter's limits, and which adapters are CPUs.
import { describe, expect, it } from 'vitest';
import { chooseAttentionTiles, chooseGemmTiles, isCpuAdapter, type Limits } from './host.js';

const DEFAULTS: Limits = { invocations: 256, sizeX: 256, sizeY: 256, shared: 16384, groups: 65535 };

describe('wgsl host', () => {
  it('picks GEMM tiles that fit the limits and the shape', () => {
    expect(chooseGemmTiles(197, 2304, DEFAULTS)).toEqual({ TILE_M: 64, TILE_N: 64 });
    // 64 invocations at most: 32x32 tiles (8x8 invocations of 4x4).
    expect(chooseGemmTiles(197, 2304, { ...DEFAULTS, invocations: 64 })).toEqual({ TILE_M: 32, TILE_N: 32 });
    // The head at batch 1: one row, so short tiles.
    expect(chooseGemmTiles(1, 1000, DEFAULTS)).toEqual({ TILE_M: 16, TILE_N: 64 });
    // Little workgroup memory: (TILE_M + TILE_N) * 16 floats must fit.
    const t = chooseGemmTiles(197, 768, { ...DEFAULTS, shared: 4096 });
    expect((t.TILE_M! + t.TILE_N!) * 16 * 4).toBeLessThanOrEqual(4096);
  });

  it('picks attention tiles whose keys and values fit workgroup memory', () => {
    expect(chooseAttentionTiles(197, 64, 64, DEFAULTS, false)).toEqual({ QB: 64, KB: 32 });
    expect(chooseAttentionTiles(197, 64, 64, { ...DEFAULTS, shared: 32768 }, false)).toEqual({ QB: 64, KB: 64 });
    expect(chooseAttentionTiles(17, 12, 12, DEFAULTS, false)).toEqual({ QB: 32, KB: 64 });
    expect(chooseAttentionTiles(197, 80, 80, DEFAULTS, true).QB).toBe(16);
  });

  it('tells CPU adapters from GPUs', () => {
    const adapter = (info: Partial<GPUAdapterInfo>) => ({ info: { vendor: '', architecture: '', device: '', description: '', ...info } }) as unknown as GPUAdapter;
    expect(isCpuAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isCpuAdapter(adapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(isCpuAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper' }))).toBe(false);
    expect(isCpuAdapter(adapter({ vendor: 'intel', isFallbackAdapter: true } as Partial<GPUAdapterInfo>))).toBe(true);
  });
});
