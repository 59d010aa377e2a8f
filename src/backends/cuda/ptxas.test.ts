import { describe, expect, it } from 'vitest';
import { demangleName, parsePtxas } from './ptxas.js';

const SAMPLE = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z6gemm_5PK6__halfS1_S1_Pfi' for 'sm_80'
ptxas info    : Function properties for _Z6gemm_5PK6__halfS1_S1_Pfi
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 71 registers, used 1 barriers, 20480 bytes smem, 388 bytes cmem[0]
ptxas info    : Compile time = 139.897 ms
ptxas info    : Compiling entry function '_Z11attention_0PK6__halfS1_S1_PS_i' for 'sm_90a'
ptxas info    : Function properties for _Z11attention_0PK6__halfS1_S1_PS_i
    16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 46080 bytes smem
`;

describe('ptxas -v reports', () => {
  it('give registers, spills, stack and shared memory per kernel and architecture', () => {
    expect(parsePtxas(SAMPLE)).toEqual([
      { fn: 'gemm_5', arch: 'sm_80', registers: 71, stack: 0, spillStores: 0, spillLoads: 0, smem: 20480 },
      { fn: 'attention_0', arch: 'sm_90a', registers: 255, stack: 16, spillStores: 8, spillLoads: 12, smem: 46080 },
    ]);
    expect(demangleName('_Z13elementwise_0PKfPfi')).toBe('elementwise_0');
  });
});
