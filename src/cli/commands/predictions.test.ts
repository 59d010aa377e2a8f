import { describe, expect, it } from 'vitest';
import { formatJson, formatText, predictions, pyFormat } from './predictions.js';

describe('pyFormat(x, 3) prints as Python\'s "{:.3}".format(x)', () => {
  // Expected strings printed by Python 3.11.
  it.each([
    [0.912, '0.912'], [0.9996, '1.0'], [1.0, '1.0'], [0.5, '0.5'], [0.5625, '0.562'], [0.4375, '0.438'],
    [0.0625, '0.0625'], [0.03125, '0.0312'], [0.125, '0.125'], [0.1234, '0.123'], [0.00012345, '0.000123'],
    [1.2e-05, '1.2e-05'], [1e-05, '1e-05'], [9.9999e-05, '0.0001'], [0.0001, '0.0001'], [0.44, '0.44'],
    [0.001, '0.001'], [123.456, '1.23e+02'], [2.5, '2.5'], [0.0, '0.0'], [0.33333334, '0.333'],
    [0.6666667, '0.667'], [5e-324, '4.94e-324'], [1e300, '1e+300'], [99.5, '99.5'], [12.34, '12.3'], [9.995, '9.99'],
  ])('%d -> %s', (x, want) => {
    expect(pyFormat(x, 3)).toBe(want);
  });
});

describe('prediction output', () => {
  const logits = new Float32Array([1, 3, 2, 0, 0, 5]);
  const ps = predictions(logits, 2, ['a.jpg', 'b.png']);
  it('prints the tutorial\'s line, then the top K', () => {
    expect(formatText(ps, ['daisy', 'roses', 'tulips'], 2)).toEqual([
      'a.jpg: class: roses   prob: 0.665',
      '  1. roses  p=0.6652  logit=3.0000',
      '  2. tulips p=0.2447  logit=2.0000',
      'b.png: class: tulips   prob: 0.987',
      '  1. tulips p=0.9867  logit=5.0000',
      '  2. daisy  p=0.0066  logit=0.0000',
    ]);
    expect(formatText(predictions(logits, 2), undefined, 1)).toEqual([
      'image 0: top-1 of 3 classes', '  1. class 1     p=0.6652  logit=3.0000',
      'image 1: top-1 of 3 classes', '  1. class 2     p=0.9867  logit=5.0000',
    ]);
  });
  it('gives machines JSON with the class, label, probability and top K', () => {
    const j = JSON.parse(formatJson(ps, ['daisy', 'roses', 'tulips'], 1, { model: 'm', target: 'js', precision: 'fp32', loadMs: 1.4, forwardMs: 2.6 }));
    expect(j).toMatchObject({ model: 'm', target: 'js', precision: 'fp32', load_ms: 1, forward_ms: 3 });
    expect(j.results[1]).toMatchObject({ index: 1, image: 'b.png', class: 2, label: 'tulips', logit: 5, top: [{ class: 2, label: 'tulips' }] });
    expect(j.results[1].prob).toBeCloseTo(0.98670, 5);
    // --top 0: the tutorial's answer alone, as in the text output.
    const answer = JSON.parse(formatJson(ps, undefined, 0, { model: 'm', target: 'js', precision: 'fp32', loadMs: 1, forwardMs: 1 })).results[1];
    expect([answer.class, answer.top]).toEqual([2, []]);
  });
});
