// Kernels that differ only in the buffers they touch render to the same function text (buffers are
// parameters): keep one function per distinct text, so depth-12 models compile a handful of kernels.

/** Stands for a kernel's function name while its text is compared. */
export const NAME_PLACEHOLDER = '__VITC_KERNEL__';

export interface Deduped {
  /** Function name per kernel, in kernel order. */
  readonly names: readonly string[];
  /** The distinct functions in first-use order, with the kernels (ids) that launch each. */
  readonly functions: readonly { readonly name: string; readonly text: string; readonly users: readonly number[] }[];
}

/**
 * `texts[i]` is kernel i's function with NAME_PLACEHOLDER as its name; `prefix(i)` names a new function
 * (a counter is appended per prefix: gemm_0, gemm_1, ...).
 */
export function dedupeKernels(texts: readonly string[], prefix: (i: number) => string): Deduped {
  const byText = new Map<string, { name: string; text: string; users: number[] }>();
  const counts = new Map<string, number>();
  const names: string[] = [];
  texts.forEach((t, i) => {
    let f = byText.get(t);
    if (!f) {
      const p = prefix(i);
      const n = counts.get(p) ?? 0;
      counts.set(p, n + 1);
      const name = `${p}_${n}`;
      f = { name, text: t.split(NAME_PLACEHOLDER).join(name), users: [] };
      byText.set(t, f);
    }
    f.users.push(i);
    names.push(f.name);
  });
  return { names, functions: [...byText.values()] };
}
