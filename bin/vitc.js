#!/usr/bin/env node
// Entry point. A closed stdout (vitc inspect | head) ends the process quietly.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
// The compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs via `prepare`).
import('../dist/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
      process.stderr.write('vitc: internal error: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
    } else {
      process.stderr.write(`vitc: internal error: ${err && err.stack ? err.stack : err}\n`);
    }
    process.exitCode = 2;
  });
