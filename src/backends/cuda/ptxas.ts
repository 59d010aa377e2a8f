// Reading `nvcc -Xptxas -v`: registers, spills, stack frame and shared memory per kernel and
// architecture (the tests fail a build on any spill; `make resources` prints the same report).

export interface PtxasEntry {
  /** The kernel's name (demangled: gemm_0, attention_0, ...). */
  readonly fn: string;
  readonly arch: string;
  readonly registers: number;
  readonly stack: number;
  readonly spillStores: number;
  readonly spillLoads: number;
  readonly smem: number;
}

/** `_Z6gemm_0PK6__half...` -> `gemm_0` (the first length-prefixed name of an Itanium mangled name). */
export function demangleName(m: string): string {
  const r = /^_Z(\d+)/.exec(m);
  return r ? m.slice(r[0].length, r[0].length + Number(r[1])) : m;
}

export function parsePtxas(text: string): PtxasEntry[] {
  const out: PtxasEntry[] = [];
  let cur: { fn: string; arch: string; registers: number; stack: number; spillStores: number; spillLoads: number; smem: number } | undefined;
  for (const line of text.split('\n')) {
    const entry = /Compiling entry function '([^']+)' for '([^']+)'/.exec(line);
    if (entry) {
      if (cur) out.push(cur);
      cur = { fn: demangleName(entry[1]!), arch: entry[2]!, registers: 0, stack: 0, spillStores: 0, spillLoads: 0, smem: 0 };
      continue;
    }
    if (!cur) continue;
    const spill = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (spill) {
      cur.stack = Number(spill[1]);
      cur.spillStores = Number(spill[2]);
      cur.spillLoads = Number(spill[3]);
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used) cur.registers = Number(used[1]);
    const smem = /(\d+) bytes smem/.exec(line);
    if (smem) cur.smem = Number(smem[1]);
  }
  if (cur) out.push(cur);
  return out;
}
