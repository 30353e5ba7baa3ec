// Builds the admin page: type-checks src/ (TypeScript strict, the SDK's sources included through
// the tsconfig path), bundles src/main.tsx with Preact and the SDK into one content-hashed script,
// and writes index.html naming it. Output: --out DIR (Maven passes target/classes/dashboard, so the
// page is inside the jar), default dist/. No CDN, no runtime fetch of anything but the node's own API.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : `${root}/dist`;

execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', root], { stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [`${root}/src/main.tsx`, `${root}/src/style.css`],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  alias: { '@switchboard/client': `${root}/../js/src/index.ts` },
  external: ['ws'],
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
const script = outputs.find((f) => f.startsWith('main-') && f.endsWith('.js'));
const style = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
const html = readFileSync(`${root}/src/index.html`, 'utf8').replace('{{script}}', script).replace('{{style}}', style);
writeFileSync(`${out}/index.html`, html);
console.log(`dashboard: ${outputs.join(', ')}, index.html -> ${out}`);
