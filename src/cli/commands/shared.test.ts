import { describe, expect, it } from 'vitest';
import { counted } from './shared.js';

describe('counted', () => {
  it('says "1 tensor" and "2 tensors" (a one-tensor .npz used to convert to "1 tensors")', () => {
    expect(counted(0, 'tensor')).toBe('0 tensors');
    expect(counted(1, 'tensor')).toBe('1 tensor');
    expect(counted(1536, 'tensor')).toBe('1,536 tensors');
  });
});
