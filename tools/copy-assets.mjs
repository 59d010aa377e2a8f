// After tsc: copy the plain-JS runtime files (inlined into generated modules, imported by vitc) into dist/.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
for (const dir of ['src/runtime', 'src/backends/js/runtime']) {
  const out = `dist/${dir.slice('src/'.length)}`;
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.js')) cpSync(`${dir}/${f}`, `${out}/${f}`);
}
