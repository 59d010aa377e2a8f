// Loading model-language files: parse, follow imports (relative to the importing file, then the
// stdlib), collect the visible blocks, and run the static checks, reporting all errors together.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute, sep } from 'node:path';
import { DiagnosticError, error, type Diagnostic, type Span } from '../diag/diagnostic.js';
import { displayPath } from '../spec/load.js';
import { readSource } from '../spec/yaml-source.js';
import { stdlibDir } from '../paths.js';
import { MAX_CHAIN } from '../limits.js';
import { parseVit } from './parse.js';
import { checkModule } from './check.js';
import type { BlockDef } from './ast.js';
import type { Module } from './module.js';
import { quote } from '../diag/quote.js';
import { shownSpan } from './anchor.js';

/** Where an import or a spec's block file is found: next to the referring file, else in the stdlib. */
export function findVitFile(ref: string, baseDir: string): string | undefined {
  for (const dir of [baseDir, stdlibDir]) {
    const p = resolve(dir, ref);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Loads files once per compilation and remembers every source it read. */
/**
 * A model-language file as a build names it (manifest.json, comments in generated code): a stdlib file
 * as `stdlib/NAME`, any other relative to `baseDir` (the spec's directory), with `/` separators; never
 * an absolute path, so a build is the same in any checkout, from any working directory. `file` is
 * absolute or as spans hold it (relative to the working directory).
 */
export function sourceName(file: string, baseDir: string): string {
  const abs = resolve(file);
  const inLib = relative(stdlibDir, abs);
  const name = !inLib.startsWith('..') && !isAbsolute(inLib) ? `stdlib/${inLib}` : relative(baseDir, abs);
  return name.split(sep).join('/');
}

export class ModuleLoader {
  private readonly cache = new Map<string, Module>();
  private readonly loading: string[] = [];

  load(absPath: string, referencedFrom?: Span): Module {
    const cached = this.cache.get(absPath);
    if (cached) return cached;
    if (this.loading.includes(absPath)) {
      throw new DiagnosticError([error('dsl/import-cycle', `import cycle: ${[...this.loading.slice(this.loading.indexOf(absPath)), absPath].map((p) => displayPath(p)).join(' -> ')}`, referencedFrom)]);
    }
    if (this.loading.length >= MAX_CHAIN) {
      throw new DiagnosticError([error('dsl/import-depth', `imports nest more than ${MAX_CHAIN} files deep`, referencedFrom, 'import the files you need from one place')]);
    }
    const src = readSource(absPath, displayPath(absPath), referencedFrom, 'model-language file');
    const { ast, diagnostics } = parseVit(src.displayName, src.text);
    if (diagnostics.length) throw new DiagnosticError(diagnostics);
    this.loading.push(absPath);
    try {
      const diags: Diagnostic[] = [];
      const blocks = new Map<string, { def: BlockDef; module: Module }>();
      const module: Module = { file: src.displayName, absPath, text: src.text, ast, blocks };
      for (const imp of ast.imports) {
        const found = findVitFile(imp.path, dirname(absPath));
        if (!found) {
          diags.push(error('dsl/import', `cannot find ${quote(imp.path)}`, imp.span, `looked next to ${src.displayName} and in the stdlib`));
          continue;
        }
        const dep = this.load(found, imp.span);
        for (const def of dep.ast.items) {
          if (!blocks.has(def.name)) blocks.set(def.name, { def, module: dep });
        }
      }
      for (const def of ast.items) {
        const prev = blocks.get(def.name);
        if (prev && prev.module === module) {
          diags.push(error('dsl/duplicate-block', `"${def.name}" is defined twice`, def.nameSpan, `first at line ${prev.def.nameSpan.line}`));
        } else if (prev) {
          diags.push(error('dsl/duplicate-block', `"${def.name}" is already imported from ${shownSpan(prev.def.nameSpan)}`, def.nameSpan, 'rename one of them'));
        } else {
          blocks.set(def.name, { def, module });
        }
      }
      diags.push(...checkModule(module));
      if (diags.length) throw new DiagnosticError(diags);
      this.cache.set(absPath, module);
      return module;
    } finally {
      this.loading.pop();
    }
  }

  /** Every file read, for the build's manifest: its name (see sourceName) and text. */
  sources(baseDir: string): { name: string; text: string }[] {
    return [...this.cache.values()]
      .map((m) => ({ name: sourceName(m.absPath, baseDir), text: m.text }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  stdlib(name: string): Module {
    return this.load(join(stdlibDir, name));
  }
}
