import { describe, expect, it } from 'vitest';
import { ttyProgress } from './progress.js';

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
