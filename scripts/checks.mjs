// `npm test`'s static checks: the type check (tsc) and the lint (ESLint) at the same time, since each
// builds its own TypeScript program on one core. Each one's output is printed whole when it ends;
// the exit code is non-zero when either fails.
import { spawn } from 'node:child_process';

const CHECKS = [
  ['tsc', ['--noEmit']],
  ['eslint', ['.']],
];

function run([command, args]) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) =>
      resolve({ command, code: 1, output: `${output}${error.message}\n`, ms: Date.now() - started }),
    );
    child.on('close', (code) => resolve({ command, code: code ?? 1, output, ms: Date.now() - started }));
  });
}

const results = await Promise.all(CHECKS.map(run));
for (const { command, code, output, ms } of results) {
  process.stdout.write(output);
  process.stdout.write(`${code === 0 ? 'ok' : 'FAILED'}: ${command} (${(ms / 1000).toFixed(1)} s)\n`);
}
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
