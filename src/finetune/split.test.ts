// The tutorial's read_split_data, against what Python computes (test/fixtures/finetune/split.json,
// written by tools/golden/make_finetune_fixtures.py with CPython's random module and json.dumps).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PyRandom } from './pyrandom.js';
import { classIndicesJson, compareCodePoints, extension, splitLists } from './split.js';
import { epochOrder } from './train.js';

interface SplitFixture {
  cases: { name: string; classes: Record<string, string[]>; val: Record<string, string[]> }[];
  class_indices: { classes: string[]; json: string };
  shuffles: { seed: number; epoch: number; n: number; order: number[] }[];
}

const fixture = JSON.parse(readFileSync('test/fixtures/finetune/split.json', 'utf8')) as SplitFixture;

describe('read_split_data', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s: the same files go to validation as in Python', (_name, c) => {
    const classes = Object.keys(c.classes).sort(compareCodePoints);
    const perClass = classes.map((k) => [...c.classes[k]!].sort(compareCodePoints));
    // The fixture's listings are Python-sorted: the same order as compareCodePoints gives.
    expect(perClass).toEqual(classes.map((k) => c.classes[k]));
    const { train, val } = splitLists(perClass, 0.2);
    for (const [label, cls] of classes.entries()) {
      expect(val.filter((s) => s.label === label).map((s) => s.path), cls).toEqual(c.val[cls]);
      expect(train.filter((s) => s.label === label).length + c.val[cls]!.length).toBe(c.classes[cls]!.length);
    }
  });

  it('writes class_indices.json as json.dumps(indent=4) does', () => {
    const classes = [...fixture.class_indices.classes].sort(compareCodePoints);
    expect(classes).toEqual(fixture.class_indices.classes);
    expect(classIndicesJson(classes)).toBe(fixture.class_indices.json);
  });

  it('shuffles epochs as random.Random((seed << 32) + epoch).shuffle does', () => {
    for (const s of fixture.shuffles) expect(epochOrder(s.n, s.seed, s.epoch), `seed ${s.seed} epoch ${s.epoch}`).toEqual(s.order);
  });

  it('takes extensions as os.path.splitext does', () => {
    expect(extension('a.jpg')).toBe('.jpg');
    expect(extension('a.b.PNG')).toBe('.PNG');
    expect(extension('.jpg')).toBe('');
    expect(extension('..jpg')).toBe('');
    expect(extension('noext')).toBe('');
    expect(extension('.x.jpg')).toBe('.jpg');
  });

  it('sorts by code point, as Python sorts str', () => {
    expect(['\uff21', '\u{1f338}', 'a', 'B'].sort(compareCodePoints)).toEqual(['B', 'a', '\uff21', '\u{1f338}']);
  });
});

describe('PyRandom', () => {
  it('is CPython\'s Mersenne Twister from random.seed(0)', () => {
    // random.seed(0); [random.random(), random.getrandbits(32)] in CPython.
    const r = new PyRandom(0);
    expect(r.random()).toBe(0.8444218515250481);
    expect(r.getrandbits(32)).toBe(3255389356);
  });
});
