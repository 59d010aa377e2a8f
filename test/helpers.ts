// Run the CLI in-process and capture what it prints.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function vitc(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const created: string[] = [];
afterAll(() => { for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix = 'vitc-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run a command to completion without blocking this test worker. A long spawnSync freezes the
 * worker's event loop, and vitest's own RPC from the worker times out after 60 s on a loaded machine
 * ("Timeout calling onTaskUpdate"), failing the run although every test passed.
 */
export function runAsync(cmd: string, args: readonly string[], opts: { readonly input?: string; readonly cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Debian's Python, which the README's test command gives torch, torchvision, Pillow and onnx. */
export const PY = '/usr/bin/python3';

/**
 * Whether the tests that compare against a Python reference run: true when `PY` imports every module
 * of `modules` ("torch, numpy"), and always under CI, where a missing module must fail the run
 * rather than skip the check. Elsewhere a missing module skips `what` with a note.
 */
export function pythonHas(modules: string, what: string): boolean {
  if (process.env.CI) return true;
  const ok = spawnSync(PY, ['-c', `import ${modules}`], { encoding: 'utf8' }).status === 0;
  if (!ok) console.warn(`note: ${PY} lacks one of ${modules}; skipping ${what} (the README's test command installs them)`);
  return ok;
}
