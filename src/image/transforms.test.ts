import { describe, expect, it } from 'vitest';
import { centerCrop, describePlan, planPreprocess, roundHalfEven, shorterSideSize, toNormalizedTensor } from './transforms.js';
import { DiagnosticError } from '../diag/diagnostic.js';

describe('torchvision semantics', () => {
  it('rounds crop offsets as Python\'s round: halves to even', () => {
    expect([0.5, 1.5, 2.5, 3.5, 16, 16.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 16, 16]);
  });
  it('truncates the long side of Resize(size) as int(size * long / short)', () => {
    expect(shorterSideSize(500, 375, 256)).toEqual([341, 256]); // 256 * 500 / 375 = 341.33
    expect(shorterSideSize(375, 500, 256)).toEqual([256, 341]);
    expect(shorterSideSize(299, 300, 256)).toEqual([256, 256]); // 256.856 -> 256
  });
  it('center-crops with the offset rounded half to even, and pads with black when the crop is larger', () => {
    const img = { width: 5, height: 1, channels: 1 as const, data: Uint8Array.from([1, 2, 3, 4, 5]) };
    expect([...centerCrop(img, 1, 2).data]).toEqual([3, 4]); // left = round((5 - 2) / 2) = round(1.5) = 2
    expect([...centerCrop(img, 1, 4).data]).toEqual([1, 2, 3, 4]); // round(0.5) = 0
    expect([...centerCrop({ ...img, width: 4, data: Uint8Array.from([1, 2, 3, 4]) }, 1, 1).data]).toEqual([3]); // round(1.5) = 2
    const padded = centerCrop({ width: 2, height: 1, channels: 1, data: Uint8Array.from([7, 8]) }, 3, 5);
    expect([padded.width, padded.height, ...padded.data]).toEqual([5, 3, 0, 0, 0, 0, 0, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('normalizes in float32 steps: (x/255 - mean) / std', () => {
    const out = new Float32Array(2);
    toNormalizedTensor({ width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 255]) }, [0.485], [0.229], out, 0);
    expect([...out]).toEqual([Math.fround(Math.fround(-Math.fround(0.485)) / Math.fround(0.229)), Math.fround(Math.fround(1 - Math.fround(0.485)) / Math.fround(0.229))]);
  });
  it('plans the spec\'s steps and refuses a crop that is not the model\'s input', () => {
    expect(describePlan(planPreprocess({ resize: 256, crop: 224, interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }, [224, 224], 3)))
      .toBe('Resize(256, bicubic), CenterCrop(224), ToTensor(), Normalize([0.485,0.456,0.406], [0.229,0.224,0.225])');
    expect(describePlan(planPreprocess({}, [32, 48], 1))).toBe('Resize((32, 48), bilinear), ToTensor(), Normalize([0.5], [0.5])');
    expect(() => planPreprocess({ resize: 256, crop: 200 }, [224, 224], 3)).toThrow(DiagnosticError);
  });
});
