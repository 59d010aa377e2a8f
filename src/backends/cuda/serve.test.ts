// The --serve protocol against a stand-in runner (a shell script): answers in order, a request's error
// rejects that request only, a runner that dies rejects what is pending and what comes after with its
// stderr's error line, close waits for the runner to exit, an idle runner does not hold Node open.
// (The open-session test comes first: it counts the handles that keep Node alive, before other tests spawn.)
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from './serve.js';

const SCRIPT = `#!/bin/sh
[ "$1" = "--serve" ] || { echo "vitc_model: error: not --serve" >&2; exit 1; }
[ "$2" = "--weights" ] || { echo "vitc_model: error: weights: missing tensor" >&2; exit 1; }
while read -r line; do
  case "$line" in
    *bad*) echo "error: $line: not a .npy file" ;;
    *crash*) echo "vitc_model: error: CUDA error: an illegal memory access" >&2; exit 3 ;;
    *) echo "$line" | tr '\\t' ' ' >> "$3"; echo ok ;;
  esac
done
echo closed >> "$3"
`;

function fakeRunner(): { bin: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vitc-serve-'));
  const bin = join(dir, 'runner');
  writeFileSync(bin, SCRIPT);
  chmodSync(bin, 0o755);
  return { bin, log: join(dir, 'log') };
}

const failed = (m: string) => new Error(`runner: ${m}`);

describe('startServer: an open session', () => {
  it('does not keep Node alive while the runner is idle, and does while it works', async () => {
    const { bin, log } = fakeRunner();
    const alive = () => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap' || r === 'PipeWrap').length;
    const before = alive();
    const s = startServer(bin, ['--weights', log], failed);
    const pending = s.request('a.npy', 'A');
    await new Promise((r) => setImmediate(r));  // sent once the requests before it are answered
    expect(alive()).toBeGreaterThan(before);
    await pending;
    expect(alive()).toBe(before);
    await s.close();
  });
});

describe('startServer', () => {
  it('answers requests in order; an error answer rejects that request only; close waits for the exit', async () => {
    const { bin, log } = fakeRunner();
    const s = startServer(bin, ['--weights', log], failed);
    const results = await Promise.allSettled([s.request('a.npy', 'A'), s.request('bad.npy', 'B'), s.request('c.npy', 'C')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('runner: bad.npy\tB: not a .npy file');
    await s.close();
    expect(readFileSync(log, 'utf8')).toBe('a.npy A\nc.npy C\nclosed\n');
  });

  it('a runner that dies rejects the pending request and every later one with its error line', async () => {
    const { bin, log } = fakeRunner();
    const s = startServer(bin, ['--weights', log], failed);
    await s.request('a.npy', 'A');
    const [crash, after] = await Promise.allSettled([s.request('crash.npy', 'B'), s.request('c.npy', 'C')]);
    expect((crash as PromiseRejectedResult).reason.message).toBe('runner: CUDA error: an illegal memory access');
    expect((after as PromiseRejectedResult).reason.message).toBe('runner: CUDA error: an illegal memory access');
    await s.close();
  });

  it('a runner that fails to load reports why on the first request; no process starts before one', async () => {
    const { bin } = fakeRunner();
    const s = startServer(bin, [], failed);
    await expect(s.request('a.npy', 'A')).rejects.toThrow('runner: weights: missing tensor');
    await s.close();
    const idle = startServer(join(tmpdir(), 'no-such-runner-binary'), [], failed);
    await idle.close();
    await expect(s.request('x\ty.npy', 'A')).rejects.toThrow('a runner request path holds a tab');
  });
});
