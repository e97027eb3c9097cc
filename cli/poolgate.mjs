#!/usr/bin/env node
// The `poolgate` command. The CLI is TypeScript; tsx compiles it on the fly (both require() and
// import()), so a fresh checkout needs no build step (`npm ci && npm start`).
import { createRequire } from 'node:module';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

registerEsm();
registerCommonJs();
const { main } = createRequire(import.meta.url)('./main.ts');
process.exitCode = await main(process.argv.slice(2));
