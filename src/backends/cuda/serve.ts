// One long-lived `vitc_model --serve` process per session: the weights are loaded (converted, repacked,
// copied to the GPU) once, and each forward is one request line on its stdin ("X.npy<TAB>DIR") answered
// by one line on its stdout ("ok" or "error: ..."). Requests go one at a time, in the order they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Server {
  /** Run the model on the .npy at `input`, writing every output to `outDir`/NAME.npy. Rejects with the runner's message. */
  request(input: string, outDir: string): Promise<void>;
  close(): Promise<void>;
}

/** What the runner said on stderr: its `vitc_model: error:` line, else a sanitizer's finding, else its last line. */
function stderrMessage(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('vitc_model: error:'))?.slice('vitc_model: error: '.length) ?? sanitizerFinding(lines) ?? lines[lines.length - 1];
}

/**
 * A runner built with VITC_CUDA_SANITIZE=1 that tripped a sanitizer: UBSan's `file:line:col: runtime
 * error:` line, or AddressSanitizer's kind of error with the innermost frame in model.cu (the kernel
 * and line; the frames above it are the emulation's copies).
 */
function sanitizerFinding(lines: readonly string[]): string | undefined {
  const ub = lines.find((l) => l.includes(': runtime error: '));
  if (ub) return `UBSan: ${ub}`;
  const asan = lines.map((l) => /ERROR: (\w+Sanitizer): ([\w-]+)/.exec(l)).find((m) => m);
  if (!asan) return undefined;
  const frame = lines.map((l) => /^#\d+ 0x[0-9a-f]+ in (\w+)\S* .*?(\S*model\.cu:\d+)/.exec(l)).find((m) => m);
  return `${asan[1]}: ${asan[2]}${frame ? ` in ${frame[1]} (${frame[2]})` : ''}`;
}

/** Start `bin --serve ...args` when the first request comes. `failed` turns a message into the error to throw. */
export function startServer(bin: string, args: readonly string[], failed: (message: string) => Error): Server {
  let child: ChildProcess | undefined;
  let stderr = '';
  let exited: string | undefined;
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let chain: Promise<void> = Promise.resolve();
  let closed: Promise<void> | undefined;

  // An idle runner does not keep Node alive (a session left open must not hang the process); a busy one does.
  const hold = (on: boolean) => {
    if (!child) return;
    for (const h of [child, child.stdin, child.stdout, child.stderr] as unknown as ({ ref?(): void; unref?(): void } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  };

  const start = (): ChildProcess => {
    const c = spawn(bin, ['--serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-16384); });
    createInterface({ input: c.stdout! }).on('line', (line) => {
      const w = waiting.shift();
      if (!w) return;
      if (!waiting.length) hold(false);
      if (line === 'ok') w.resolve();
      else w.reject(failed(line.replace(/^error: /, '')));
    });
    const gone = (why: string) => {
      if (exited !== undefined) return;
      exited = stderrMessage(stderr) ?? why;
      for (const w of waiting.splice(0)) w.reject(failed(exited));
    };
    c.on('error', (e) => gone(e.message));
    c.on('close', (code, signal) => gone(signal ? `killed by ${signal}` : `exited with status ${code}`));
    c.stdin!.on('error', () => {});  // a runner that exited is reported by 'close'
    return c;
  };

  return {
    request(input, outDir) {
      if (/[\t\n\r]/.test(input + outDir)) return Promise.reject(new Error(`a runner request path holds a tab or a line break: ${input} ${outDir}`));
      const one = chain.then(() => new Promise<void>((resolve, reject) => {
        if (exited !== undefined) return reject(failed(exited));
        child ??= start();
        waiting.push({ resolve, reject });
        hold(true);
        child.stdin!.write(`${input}\t${outDir}\n`);
      }));
      chain = one.catch(() => {});
      return one;
    },
    close() {
      closed ??= (async () => {
        await chain;
        const c = child;
        if (!c || exited !== undefined) return;
        await new Promise<void>((resolve) => {
          c.once('close', () => resolve());
          hold(true);
          c.stdin!.end();
        });
      })();
      return closed;
    },
  };
}
