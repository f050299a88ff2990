import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a copy of the repository's layout whose src/ holds the sources compiled to JavaScript (compileSources) */
    compiledRoot: string;
  }
}

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Compiles src/ once per run into a temporary tree laid out as the repository is (src/ compiled, dist/ and
 * node_modules/ linked, so paths the program takes from its own location still resolve), for the processes the
 * tests spawn. Each child otherwise compiled every module again through tsx, about 1.5 s of CPU per `inbox` run.
 * The same transform as tsx's (esbuild), without bundling: one output file per source file.
 */
export async function compileSources(): Promise<string> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-compiled-'));
  const sources = fs
    .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => path.join('src', file));
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: sources,
    outbase: '.',
    outdir: out,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  for (const linked of ['dist', 'node_modules', 'package.json']) fs.symlinkSync(path.join(root, linked), path.join(out, linked));
  return out;
}

/** The compiled entry point of the `inbox` command (the global setup compiled it for this run). */
export const compiledCli = (): string => path.join(inject('compiledRoot'), 'src/cli/main.js');
