// Blocks a spec gives a model (`block:` its encoder, `global_pool:` its pool) must fit the model's
// call and keep the contract the model relies on: an encoder block returns its input's shape
// [B, T, D] (the next layer takes it), a pooling block returns [B, F] (the head takes it). A misfit
// is the spec's choice of block, so it is reported at the spec's value, in the words of the roles,
// not at the model's lines in the stdlib.
import { fail, type Span } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { BATCH, fmtShape, sameShape } from '../ir/types.js';
import type { Arg, BlockDef } from './ast.js';
import { shownSpan } from './anchor.js';
import { describe, fits, typeName, type Binding, type DValue } from './values.js';

type Given = { readonly value: DValue; readonly span: Span };

const roleWords = (b: Binding) => (b.role === 'encoder' ? 'encoder block' : 'pooling block');

/** How the model calls the block, for hints: `pool(x, num_prefix?, eps?)`. */
function callText(callee: string, args: readonly Arg[]): string {
  const one = (a: Arg) => (a.name === undefined ? (a.value.kind === 'name' ? a.value.name : '...') : `${a.name}${a.offered ? '?' : ''}`);
  return `${callee}(${args.map(one).join(', ')})`;
}

/**
 * Does the model's call `callee(args)` fit `def`'s declaration? `positional` and `named` are the
 * arguments it receives (offered ones it does not declare already dropped; `preset` names those the
 * spec set under its name, checked where they are read).
 */
export function checkBoundCall(def: BlockDef, bound: Binding, callee: string, args: readonly Arg[], positional: readonly Given[], named: ReadonlyMap<string, Given>, preset: ReadonlySet<string>): void {
  const what = `${roleWords(bound)} ${def.name}`;
  const calls = `model ${bound.model} calls it as ${callText(callee, args)}`;
  if (positional.length > def.params.length) {
    fail('dsl/block-fit', `${what} declares ${def.params.length} parameter${def.params.length === 1 ? '' : 's'}, but model ${bound.model} passes it ${positional.length} by position`, bound.span, calls);
  }
  const extra = [...named.keys()].filter((n) => !def.params.some((p) => p.name === n));
  if (extra.length) {
    fail('dsl/block-fit', `${what} has no parameter${extra.length === 1 ? "" : "s"} ${extra.map((n) => quote(n)).join(', ')}, which model ${bound.model} passes to its ${roleWords(bound)}`, bound.span, `${calls}; declare ${extra.length === 1 ? 'it' : 'them'} in ${def.name}`);
  }
  def.params.forEach((p, i) => {
    const given = positional[i] ?? named.get(p.name);
    if (!given) {
      if (p.default) return;
      const settable = !p.type || (p.type.base !== 'tensor' && p.type.base !== 'block');
      fail('dsl/block-fit', `${what} needs ${quote(p.name)}${p.type ? ` (${typeName(p.type)})` : ''}, which model ${bound.model} does not pass to its ${roleWords(bound)}`, bound.span,
        `${calls}; ${settable ? `set it in the spec under "${def.name}:", or give it a default` : 'is it a block for another role?'} (declared at ${shownSpan(p.span)})`);
    }
    if (preset.has(p.name) || !p.type || fits(given.value, p.type)) return;
    fail('dsl/block-fit', `${what} declares "${p.name}: ${typeName(p.type)}", but model ${bound.model} passes it ${describe(given.value)}`, bound.span, `declared at ${shownSpan(p.span)}`);
  });
}

/** Does what the block returned keep its role's contract? `input` is the tokens it was given. */
export function checkBoundResult(def: BlockDef, bound: Binding, input: DValue | undefined, result: DValue): void {
  const what = `${roleWords(bound)} ${def.name}`;
  const tokens = input?.kind === 'tensor' ? input.value.type.shape : undefined;
  if (bound.role === 'encoder') {
    if (!tokens) return;
    if (result.kind === 'tensor' && sameShape(result.value.type.shape, tokens)) return;
    fail('dsl/block-shape', `${what} returned ${describe(result)}; an encoder block must return the shape of its input x, ${fmtShape(tokens)}`, bound.span,
      `model ${bound.model} calls it once per layer on the tokens [B, T, D] and gives its result to the next layer`);
  }
  const shape = result.kind === 'tensor' ? result.value.type.shape : undefined;
  if (shape && shape.length === 2 && shape[0] === BATCH) return;
  fail('dsl/block-shape', `${what} returned ${describe(result)}; a pooling block must return [B, F], one feature vector per image`, bound.span,
    `${tokens ? `it is given the tokens ${fmtShape(tokens)}: ` : ''}select a token (x[:, 0]) or reduce over them (mean(x, axis = 1)); the head reads F features`);
}
