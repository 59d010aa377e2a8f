// A file given where a spec is expected that is not one: a model-language file (`vitc build m.vit`),
// a build output or weights file, anything that is not YAML. One line that says what a spec is and,
// for a model-language file, the line of YAML that would compile it, instead of the YAML parser's
// dozen complaints about text that was never meant to be YAML.
import { existsSync, readdirSync } from 'node:fs';
import { isDirectory } from '../io/files.js';
import { basename, extname, join } from 'node:path';
import { DiagnosticError, error, fail, fileSpan, type Span } from '../diag/diagnostic.js';
import type { SourceFile } from './yaml-source.js';

const YAML_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The models and blocks a model-language file defines (a light scan: the file need not parse). */
function definitions(text: string): { models: string[]; blocks: string[] } {
  const models: string[] = [], blocks: string[] = [];
  for (const m of text.matchAll(/^[ \t]*(model|block)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm)) (m[1] === 'model' ? models : blocks).push(m[2]!);
  return { models, blocks };
}

/** The one-line hint for a model-language file: the spec line that would compile what it defines. */
function vitHint(src: SourceFile): string {
  const file = basename(src.absPath);
  const stem = basename(src.absPath, extname(src.absPath));
  const { models, blocks } = definitions(src.text);
  if (models.length) {
    return `write a spec that names the model, e.g. ${stem}.yaml next to it with "model: ${file}#${models[0]}" and the model's hyperparameters; see docs/spec-format.md`;
  }
  const b = blocks[blocks.length - 1];
  return b
    ? `it defines blocks, not a model: make one the encoder block of a spec with "block: ${file}#${b}"; see docs/spec-format.md`
    : 'a spec is a YAML file of hyperparameters such as spec/vit-b16.yaml; see docs/spec-format.md';
}

/**
 * A directory given where a spec goes: a build directory (`vitc inspect out/vit-b16`) or a folder of
 * specs (`vitc check spec/tiny`). One line with the hint for which it is; nothing when `abs` is not a
 * directory (reading it reports anything else).
 */
export function directoryAsSpec(abs: string, display: string): void {
  if (!isDirectory(abs)) return;
  let specs: string[] = [];
  try { specs = readdirSync(abs).filter((n) => YAML_EXTENSIONS.has(extname(n).toLowerCase()) && n !== 'manifest.json'); } catch { /* the hint without them */ }
  const onnx = join(display, 'model.onnx');
  const hint = existsSync(join(abs, 'manifest.json'))
    ? `it is a build directory: give the spec it was built from${existsSync(join(abs, 'model.onnx')) ? ` (vitc inspect also reads ${onnx})` : ''}; vitc run ${display} runs the build`
    : specs.length ? `give its spec files, e.g. ${join(display, '*.yaml')}` : 'give a spec file, such as spec/vit-b16.yaml';
  fail('io/unreadable', 'cannot read spec: is a directory', fileSpan(display), hint);
}

/**
 * Fail with one line when `src` is not a spec: a model-language file by its name, or, for a file not
 * named .yaml/.yml/.json, binary content. `parse` is the YAML reading; for a file not named like
 * YAML, its errors become that one line too.
 */
export function readAsSpec<T>(src: SourceFile, referencedFrom: Span | undefined, parse: () => T): T {
  const ext = extname(src.absPath).toLowerCase();
  const at = referencedFrom ?? fileSpan(src.displayName);
  const what = referencedFrom ? `"${src.displayName}" is not a spec` : 'expected a spec';
  if (ext === '.vit') {
    throw new DiagnosticError([error('spec/not-a-spec', `${what}: this is a model-language file, not YAML`, at, vitHint(src))]);
  }
  if (YAML_EXTENSIONS.has(ext)) return parse();
  const hint = 'a spec is a YAML file of hyperparameters such as spec/vit-b16.yaml; see docs/spec-format.md';
  if (src.text.includes('\u0000')) throw new DiagnosticError([error('spec/not-a-spec', `${what}: this is a binary file, not YAML`, at, hint)]);
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    throw new DiagnosticError([error('spec/not-a-spec', `${what}: this ${ext ? `${ext} file ` : 'file '}is not YAML: ${e.diagnostics.length} YAML error${e.diagnostics.length === 1 ? '' : 's'}, the first at line ${e.diagnostics[0]?.span?.line ?? 0}`, at, hint)]);
  }
}
