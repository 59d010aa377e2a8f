// A progress bar on stderr for long reads, only when stderr is a terminal (never in logs or pipes).

const MIN_BYTES = 32 * 2 ** 20;

/** A (done, total) callback that draws `label [#####.....] 120/340 MiB`, or undefined when not a TTY. */
export function ttyProgress(label: string, stream: NodeJS.WriteStream = process.stderr): ((done: number, total: number) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let finished = false;
  return (done, total) => {
    if (total < MIN_BYTES || finished) return;
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mib(done)}/${mib(total)} MiB`);
    if (done >= total) {
      stream.write('\n');
      finished = true;
    }
  };
}

/** A one-line status on a terminal, redrawn in place (at most every 100 ms unless forced), or undefined when not a TTY. */
export interface TtyStatus {
  update(text: string, force?: boolean): void;
  /** Erase the line (before ordinary output is printed). */
  clear(): void;
}

export function ttyStatus(stream: NodeJS.WriteStream = process.stderr): TtyStatus | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let shown = false;
  return {
    update(text, force = false) {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      const width = Math.max(20, (stream.columns ?? 100) - 1);
      stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
