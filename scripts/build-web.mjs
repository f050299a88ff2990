// Bundles the browser app (web/) into dist/web: hashed JS and CSS under assets/, index.html pointing at them.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds dist/web from web/ and returns the gzipped size of the JavaScript in bytes. */
export async function buildWeb({ quiet = false } = {}) {
  const out = path.join(root, 'dist/web');
  fs.rmSync(out, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['web/src/main.tsx'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: path.join(out, 'assets'),
    entryNames: '[name]-[hash]',
    // Code only some pages need (the forecast chart's uPlot) loads when first used, not with every page.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const js = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === 'web/src/main.tsx')[0];
  // uPlot's few layout rules (the forecast chart) come first, so ours may refine them.
  const css = Buffer.concat([fs.readFileSync(path.join(root, 'node_modules/uplot/dist/uPlot.min.css')), Buffer.from('\n'), fs.readFileSync(path.join(root, 'web/styles.css'))]);
  const cssName = `styles-${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`;
  fs.writeFileSync(path.join(out, 'assets', cssName), css);
  const html = fs
    .readFileSync(path.join(root, 'web/index.html'), 'utf8')
    .replace('%SCRIPT%', `/app/assets/${path.basename(js)}`)
    .replace('%STYLES%', `/app/assets/${cssName}`);
  fs.writeFileSync(path.join(out, 'index.html'), html);
  const gzipped = gzipSync(fs.readFileSync(path.join(root, js))).length;
  if (!quiet) console.log(`web: ${path.basename(js)} ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
  return gzipped;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildWeb();
