// Where vitc's own files live (the same relative layout from src/ under vitest and from dist/ when built).
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const packageRoot = fileURLToPath(new URL('../', import.meta.url));
export const schemaPath = join(packageRoot, 'schema', 'vitc-spec.schema.json');
export const stdlibDir = join(packageRoot, 'stdlib');

export const vitcVersion: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
