// A loaded model-language file: its syntax tree and the blocks visible in it (its own and imported).
import type { BlockDef, FileAst } from './ast.js';

export interface Module {
  /** Path as shown in messages. */
  readonly file: string;
  readonly absPath: string;
  readonly text: string;
  readonly ast: FileAst;
  /** Blocks defined in this file or in the files it imports. */
  readonly blocks: ReadonlyMap<string, { readonly def: BlockDef; readonly module: Module }>;
}
