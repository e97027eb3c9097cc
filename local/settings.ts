/**
 * Settings of the local stack, all from the environment with working defaults (README lists them).
 * Port 0 picks a free port (tests run several stacks side by side).
 */
import { resolve } from 'node:path';

export interface LocalSettings {
  readonly host: string;
  readonly httpPort: number;
  readonly stepFunctionsPort: number;
  readonly dynamoDbPort: number;
  readonly modelArtsPort: number;
  /** Base URL put in links (e-mails, Location); defaults to the HTTP API's own address. */
  readonly publicUrl?: string;
  readonly home: string;
  readonly policyFile: string;
  readonly huaweiAccessKey: string;
  readonly huaweiSecretKey: string;
  /** How long the simulator takes to bring a node pool's nodes up. */
  readonly nodeReadyDelayMs: number;
  /** How long the simulator takes to delete a node pool's nodes (POOLGATE_NODE_DELETE_DELAY_MS; default: the ready delay). */
  readonly nodeDeleteDelayMs: number;
  readonly logLevel: string;
  /** JSON file describing the simulator's pools and flavors (local/modelarts-simulator/catalog.ts). */
  readonly simulatorCatalogFile?: string;
  /** The simulator's rate-based fault plan, as JSON (local/modelarts-simulator/faults.ts). */
  readonly simulatorFaults?: string;
  /**
   * Local runs only: every Retry of the workflow waits this fraction of its backoff (0 < scale <= 1),
   * so a test with many injected faults does not wait minutes. What is retried and how often is unchanged.
   */
  readonly retryScale: number;
  /**
   * How often the scheduled sweeps run (POOLGATE_SWEEP_SECONDS; default: every minute, as on AWS, where
   * EventBridge's one-minute floor is the precision of a lease). Tests use 1 s.
   */
  readonly sweepSeconds?: number;
}

/** Documented development credentials of the ModelArts simulator (never valid anywhere else). */
export const DEV_HUAWEI_ACCESS_KEY = 'POOLGATELOCALDEVAK00';
export const DEV_HUAWEI_SECRET_KEY = 'poolgate-local-dev-secret-key-not-for-production';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new Error(`${name} must be a port number (0-65535), got ${raw}`);
  return value;
}

function retryScale(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!(value > 0 && value <= 1))
    throw new Error(`POOLGATE_SFN_RETRY_SCALE must be a number above 0 and at most 1, got ${raw}`);
  return value;
}

function sweepSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 3600)
    throw new Error(`POOLGATE_SWEEP_SECONDS must be a whole number of seconds from 1 to 3600, got ${raw}`);
  return value;
}

export function localSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LocalSettings {
  return {
    host: env.POOLGATE_HOST || '127.0.0.1',
    httpPort: port('POOLGATE_HTTP_PORT', 3000),
    stepFunctionsPort: port('POOLGATE_SFN_PORT', 8083),
    dynamoDbPort: port('POOLGATE_DYNAMODB_PORT', 8000),
    modelArtsPort: port('POOLGATE_MODELARTS_PORT', 4010),
    publicUrl: env.POOLGATE_PUBLIC_URL || undefined,
    home: resolve(cwd, env.POOLGATE_HOME || '.poolgate'),
    policyFile: resolve(cwd, env.POOLGATE_CONFIG || 'poolgate.config.json'),
    huaweiAccessKey: env.HUAWEICLOUD_SDK_AK || DEV_HUAWEI_ACCESS_KEY,
    huaweiSecretKey: env.HUAWEICLOUD_SDK_SK || DEV_HUAWEI_SECRET_KEY,
    nodeReadyDelayMs: Number(env.POOLGATE_NODE_READY_DELAY_MS || 3000),
    nodeDeleteDelayMs: Number(env.POOLGATE_NODE_DELETE_DELAY_MS || env.POOLGATE_NODE_READY_DELAY_MS || 3000),
    logLevel: env.POOLGATE_LOG_LEVEL || 'WARN',
    simulatorCatalogFile: env.POOLGATE_SIMULATOR_CATALOG ? resolve(cwd, env.POOLGATE_SIMULATOR_CATALOG) : undefined,
    simulatorFaults: env.POOLGATE_SIMULATOR_FAULTS || undefined,
    retryScale: retryScale(env.POOLGATE_SFN_RETRY_SCALE),
    sweepSeconds: sweepSeconds(env.POOLGATE_SWEEP_SECONDS),
  };
}
