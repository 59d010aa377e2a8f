import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiagnosticError, error, fail } from '../../diag/diagnostic.js';
import { serveDirectory } from '../../serve/server.js';
import { isBuildDir, readManifest } from '../../runner.js';
import { intOption, positionals, str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';

/** Why the server could not listen on --host/--port, as one line when it is the user's address or port. */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  const d = (code: string, message: string, hint: string) => new DiagnosticError([error(code, message, undefined, hint)]);
  switch (e.code) {
    case 'EADDRINUSE': return d('serve/port', `port ${port} on ${host} is in use`, 'choose another with --port');
    case 'EACCES': return d('serve/port', `no permission to listen on port ${port}`, 'choose a port above 1023 with --port');
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME': return d('serve/host', `--host ${JSON.stringify(host)} is not an address, nor a name this machine resolves`, 'give an address to listen on, e.g. --host 127.0.0.1');
    case 'EADDRNOTAVAIL': return d('serve/host', `--host ${host} is not an address of this machine`, 'give one of its addresses, e.g. --host 127.0.0.1');
    default: return e;
  }
}

/** 0.0.0.0 and :: listen on every address, but are no address to open a page at. */
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

/** The page's URL to print: a wildcard host becomes localhost, which is also a secure context for WebGPU. */
export function pageUrl(host: string, port: number, query: readonly string[]): string {
  const shown = isWildcard(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/${query.length ? `?${query.join('&')}` : ''}`;
}

export const serveCmd: Command = {
  name: 'serve',
  summary: 'serve a build directory over http (the wgsl page), cross-origin isolated',
  help: `usage: vitc serve DIR [--port N] [--host H] [--weights W.safetensors] [--labels FILE]

Serves DIR (e.g. a \`vitc build --target wgsl --page\` directory) over http with the headers of
cross-origin isolation (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
require-corp). WebGPU needs a secure context: http://localhost and http://127.0.0.1 are one, other
hosts need https. Runs until interrupted (Ctrl-C).

Any static file server that sends those two headers serves the page as well.

options:
  --port N            port (default 8080; 0 picks a free one)
  --host H            address to listen on (default 127.0.0.1)
  --weights W         also serve this weights file, and print the page's URL with ?weights=
  --labels FILE       also serve this labels file (class_indices.json or one name per line), ?labels=
  -h, --help          this help

example:
  vitc build spec/vit-b16.yaml --target wgsl --page -o out/vit-b16-web
  vitc serve out/vit-b16-web --weights vit-b16.safetensors`,
  options: { port: { type: 'string' }, host: { type: 'string' }, weights: { type: 'string' }, labels: { type: 'string' } },
  async run(p: Parsed, io: Io) {
    const [dir] = positionals('serve', p, ['DIR']);
    if (!existsSync(dir!) || !statSync(dir!).isDirectory()) fail('serve/dir', `${dir} is not a directory`, undefined, 'give a build directory, e.g. from vitc build --target wgsl --page');
    // Only a build directory: every file under DIR is served, so /etc or a home folder must not be.
    if (!isBuildDir(dir!)) fail('serve/dir', `${dir} is not a vitc build directory (it has no manifest.json), and vitc serve serves every file in the directory it is given`, undefined, 'give a build directory, e.g. from vitc build --target wgsl --page');
    readManifest(dir!);
    const port = intOption('serve', p, 'port', 8080);
    if (port > 65535) fail('cli/option-value', `vitc serve: --port must be at most 65535; got ${port}`);
    const host = str(p, 'host') ?? '127.0.0.1';
    if (host.trim() === '') fail('cli/option-value', 'vitc serve: --host is empty', undefined, 'give an address to listen on, e.g. --host 127.0.0.1');
    const extra: Record<string, string> = {};
    const query: string[] = [];
    for (const [flag, what] of [['weights', 'weights'], ['labels', 'labels']] as const) {
      const file = str(p, flag);
      if (file === undefined) continue;
      if (!existsSync(file) || !statSync(file).isFile()) fail('serve/file', `--${flag}: ${file} is not a file`);
      const at = `/${what}/${basename(file)}`;
      extra[at] = resolve(file);
      query.push(`${what}=${encodeURIComponent(at.slice(1))}`);
    }
    const page = existsSync(join(dir!, 'index.html')) ? '' : ' (it has no index.html: build with --target wgsl --page for the page)';
    const server = serveDirectory({ dir: dir!, extra });
    await new Promise<void>((ok, bad) => {
      server.once('error', (e: NodeJS.ErrnoException) => bad(listenError(e, host, port)));
      server.listen(port, host, ok);
    });
    const addr = server.address();
    const url = pageUrl(host, typeof addr === 'object' && addr ? addr.port : port, query);
    const every = isWildcard(host) ? ' (listening on every address of this machine; from another one, WebGPU needs https)' : '';
    io.out(`serving ${dir} at ${url}${every}${page}; Ctrl-C stops`);
    await new Promise<void>((done) => {
      const stop = () => server.close(() => done());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
