/**
 * Running the poolgate CLI against a running local stack, as a user's shell would, with no terminal.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RunningStack } from './stack';

const ROOT = resolve(__dirname, '../..');

/** `poolgate <args>` against `stack` as the holder of `token` (POOLGATE_URL, POOLGATE_TOKEN): its exit code and output. */
export async function runPoolgate(
  stack: RunningStack,
  token: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string }> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    POOLGATE_URL: stack.endpoints.api,
    POOLGATE_TOKEN: token,
  };
  const child = spawn(process.execPath, [join(ROOT, 'cli/poolgate.mjs'), ...args], { cwd: ROOT, env });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  return { code, stdout };
}
