#!/usr/bin/env node
// The `poolgate` command. The CLI is TypeScript; tsx compiles it on the fly so that a fresh
// checkout needs no build step (`npm ci && npm start`).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
