// After tsc: copy the plain-JS runtime files (inlined into generated modules, imported by vitc) into dist/.
import { cpSync, readdirSync } from 'node:fs';
const dir = 'src/backends/js/runtime';
for (const f of readdirSync(dir)) if (f.endsWith('.js')) cpSync(`${dir}/${f}`, `dist/backends/js/runtime/${f}`);
