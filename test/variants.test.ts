// The variant gallery (docs/variants.md, spec/variants/): what the page says is what vitc computes.
// Its goldens run in the golden matrix (golden.test.ts); the reference's own counts against the
// papers are checked by tools/golden/selfcheck.py.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { vitc } from './helpers.js';
import { formatVitText } from '../src/cli/commands/fmt.js';

const DOC = readFileSync('docs/variants.md', 'utf8');
const DIR = 'spec/variants';

/** The gallery table: each row's .vit and full-size spec, and the parameter count it states. */
const rows = DOC.split('\n')
  .filter((l) => /^\| [^|-]/.test(l) && !l.startsWith('| variant'))
  .map((l) => {
    const cells = l.split('|').map((c) => c.trim());
    const files = [...cells[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    return { variant: cells[1]!, vit: files.find((f) => f.endsWith('.vit'))!, spec: files.find((f) => f.endsWith('.yaml'))!, count: Number(cells[5]!.replaceAll(',', '')) };
  });

describe('the variant gallery', () => {
  it('has at least six entries, and every .vit file in spec/variants is one of them, with a tiny spec', () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const vits = readdirSync(DIR).filter((f) => f.endsWith('.vit')).sort();
    expect(rows.map((r) => r.vit).sort()).toEqual(vits);
    for (const r of rows) expect(readdirSync(DIR)).toContain(`tiny-${r.spec}`);
  });
  it.each(rows.map((r) => [r.variant, r.spec, r.count] as const))('%s: %s has the parameter count the page states', async (_v, spec, count) => {
    const r = await vitc('inspect', `${DIR}/${spec}`, '--json');
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { parameters: number }).parameters).toBe(count);
  });
  it.each(readdirSync(DIR).filter((f) => f.endsWith('.vit')))('%s is in canonical form', (f) => {
    const text = readFileSync(`${DIR}/${f}`, 'utf8');
    expect(formatVitText(f, text)).toBe(text);
  });
  it('quotes registers.vit\'s pooling block as it is', () => {
    const quoted = /```\n(block cls_and_mean[\s\S]*?)```/.exec(DOC)![1]!;
    expect(readFileSync(`${DIR}/registers.vit`, 'utf8')).toContain(quoted);
  });
});
