// Builds dist/: the ESM bundles (esbuild) of the core (index.js) and of the optional CBOR codec
// (cbor.js, the entry `@switchboard/client/cbor`), their minified twins for the size budget, and
// the type declarations (tsc). Prints the minified+gzipped sizes and fails when the core is over
// its budget (the codec is not part of the core: only applications that pass it carry it).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUDGET = 12 * 1024;

rmSync(`${root}/dist`, { recursive: true, force: true });
const common = { entryPoints: [`${root}/src/index.ts`], bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', external: ['ws'], logLevel: 'warning' };
await build({ ...common, outfile: `${root}/dist/index.js`, sourcemap: true });
await build({ ...common, outfile: `${root}/dist/switchboard.min.js`, minify: true });
const codec = { ...common, entryPoints: [`${root}/src/cbor.ts`] };
await build({ ...codec, outfile: `${root}/dist/cbor.js`, sourcemap: true });
await build({ ...codec, outfile: `${root}/dist/cbor.min.js`, minify: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', root], { stdio: 'inherit' });
// the README's quick start, as examples/quickstart.ts, against the declarations just built
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.examples.json`], { stdio: 'inherit' });

const min = readFileSync(`${root}/dist/switchboard.min.js`);
const gz = gzipSync(min, { level: 9 }).length;
console.log(`@switchboard/client core: ${min.length} B minified, ${gz} B minified+gzipped (budget ${BUDGET} B)`);
const cbor = readFileSync(`${root}/dist/cbor.min.js`);
console.log(`@switchboard/client/cbor (optional): ${cbor.length} B minified, ${gzipSync(cbor, { level: 9 }).length} B minified+gzipped`);
if (gz > BUDGET) {
  console.error(`over the size budget by ${gz - BUDGET} B`);
  process.exit(1);
}
