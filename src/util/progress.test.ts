import { describe, expect, it } from 'vitest';
import { ttyProgress, ttyStatus } from './progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

describe('ttyProgress', () => {
  it('draws a bar on a terminal for big reads and ends it with a newline', () => {
    const { writes, stream } = fakeStream(true);
    const p = ttyProgress('reading model.pth', stream)!;
    const total = 300 * 2 ** 20;
    p(0, total);
    p(total / 2, total); // within 100 ms of the last draw: skipped
    p(total, total);
    p(total, total); // finished: nothing more
    expect(writes).toEqual([
      '\rreading model.pth [..............................] 0/300 MiB',
      '\rreading model.pth [##############################] 300/300 MiB', '\n',
    ]);
  });
  it('stays silent for small files and is absent when stderr is not a terminal', () => {
    const { writes, stream } = fakeStream(true);
    ttyProgress('x', stream)!(1000, 1000);
    expect(writes).toEqual([]);
    expect(ttyProgress('x', fakeStream(false).stream)).toBeUndefined();
  });
});

describe('ttyStatus', () => {
  it('redraws one line in place on a terminal, at most every 100 ms unless forced, and erases it', () => {
    const { writes, stream } = fakeStream(true);
    const s = ttyStatus(stream)!;
    s.update('epoch 1: 1/10');
    s.update('epoch 1: 2/10'); // within 100 ms: skipped
    s.update('epoch 1: 3/10', true);
    s.clear();
    s.clear(); // nothing shown: nothing to erase
    expect(writes).toEqual(['\repoch 1: 1/10\x1b[K', '\repoch 1: 3/10\x1b[K', '\r\x1b[K']);
    expect(ttyStatus(fakeStream(false).stream)).toBeUndefined();
  });
});
