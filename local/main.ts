/**
 * The embedded local stack (`npm start`): the same handler modules and the same state machine
 * definition as on AWS, with local stand-ins reached only through endpoints.
 *
 *   HTTP API (routes of contracts/routes.ts + Secrets Manager, SESv2 and JWKS stand-ins)
 *   Step Functions emulator running lib/workflow-definition.ts on aws-local-stepfunctions
 *   DynamoDB (dynalite, data on disk)          ModelArts simulator (signed requests, state on disk)
 *
 * Everything lives under $POOLGATE_HOME, so a restart keeps every request and its history.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_JWT_ALGORITHMS, encodeJwtAlgorithms } from '../contracts/auth';
import { ENV } from '../contracts/environment';
import {
  SWEEP_SUBMITTED_EVERY_SECONDS,
  WORKFLOW_FUNCTIONS,
  type ScheduledFunctionId,
  type WorkflowFunctionId,
} from '../contracts/functions';
import { ROUTES } from '../contracts/routes';
import { documentClient } from '../lambdas/adapters/dynamodb/client';
import { loadPolicyFile, modelArtsProjectSecretArns } from '../lambdas/config/policy';
import { buildWorkflowDefinition } from '../lib/workflow-definition';
import { secretsManagerMount } from './aws-standins/secrets-manager';
import { sesv2Mount } from './aws-standins/sesv2';
import { jwksMount, loadOrCreateDevIssuer } from './dev-issuer';
import { docsMount, indexMount, type IndexLinks } from './index-page';
import { outboxMount } from './outbox';
import { ensureTable, startDynamoDb } from './dynamodb';
import { startHttpApi } from './http-api';
import { invokeFunction, isFunctionId } from './lambda-runtime';
import { startModelArtsSimulator, type SimulatorCatalog } from './modelarts-simulator';
import { LOCAL_SECRET_IDS, localSecrets } from './secrets';
import { localSettings, type LocalSettings } from './settings';
import { SLACK_STANDIN_PREFIX, slackStandinMount } from './slack-standin';
import { startStepFunctionsEmulator } from './step-functions';
import { UsageMeter } from './usage-meter';

export const LOCAL_TABLE_NAME = 'poolgate';
export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:poolgate';

/** A part of the local stack could not listen on its port: one line for the user, no stack trace. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

export interface LocalStackEndpoints {
  readonly api: string;
  readonly stepFunctions: string;
  readonly dynamoDb: string;
  readonly modelArts: string;
  readonly publicUrl: string;
  readonly outbox: string;
  readonly home: string;
}

export interface LocalStack {
  readonly endpoints: LocalStackEndpoints;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly settings?: LocalSettings;
  readonly printUrls?: boolean;
  /** Stop cleanly on SIGINT/SIGTERM (the CLI); tests stop the stack themselves. */
  readonly handleSignals?: boolean;
}

export async function startLocalStack(options: StartOptions = {}): Promise<LocalStack> {
  // Lambda runs Node 22; the local stack may run on Node 20, which the AWS SDK warns about.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const settings = options.settings ?? localSettings();
  const policy = loadPolicyFile(settings.policyFile);
  const home = settings.home;
  const outbox = join(home, 'outbox');
  for (const dir of [home, outbox, join(home, 'dynamodb'), join(home, 'step-functions'), join(home, 'modelarts')])
    mkdirSync(dir, { recursive: true });
  // The dev issuer stands for the policy's issuer, but the policy's algorithms and e-mail rule hold here
  // too; first, so a key the algorithms refuse stops the start before anything runs.
  const algorithms = policy.auth?.algorithms ?? DEFAULT_JWT_ALGORITHMS;
  const issuer = await loadOrCreateDevIssuer(home, { algorithms });

  // What has started, closed again if a later part cannot start (a port in use): no process lingers.
  const started: Array<{ close(): Promise<void> }> = [];
  const part = async <T extends { close(): Promise<void> }>(
    name: string,
    variable: string,
    port: number,
    start: () => Promise<T>,
  ): Promise<T> => {
    try {
      const running = await start();
      started.unshift(running);
      return running;
    } catch (error) {
      await Promise.allSettled(started.map((s) => s.close()));
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new PortInUseError(`${name}: ${settings.host}:${port} is in use; set ${variable}, or 0 for a free port`);
      throw error;
    }
  };

  const dynamo = await part('DynamoDB (dynalite)', 'POOLGATE_DYNAMODB_PORT', settings.dynamoDbPort, () =>
    startDynamoDb({ host: settings.host, port: settings.dynamoDbPort, dataDir: join(home, 'dynamodb') }),
  );
  await ensureTable(dynamo.url, LOCAL_TABLE_NAME, { backupDir: home });

  const credentials = { accessKey: settings.huaweiAccessKey, secretKey: settings.huaweiSecretKey };
  const modelArts = await part('ModelArts simulator', 'POOLGATE_MODELARTS_PORT', settings.modelArtsPort, () =>
    startModelArtsSimulator({
      host: settings.host,
      port: settings.modelArtsPort,
      dataDir: join(home, 'modelarts'),
      credentials,
      nodeReadyDelayMs: settings.nodeReadyDelayMs,
      nodeDeleteDelayMs: settings.nodeDeleteDelayMs,
      faults: settings.simulatorFaults,
      catalog: settings.simulatorCatalogFile
        ? (JSON.parse(readFileSync(settings.simulatorCatalogFile, 'utf8')) as SimulatorCatalog)
        : undefined,
    }),
  );

  // What the handlers consume, for the benchmark (GET /_local/usage).
  const meter = new UsageMeter();
  let ready!: () => void;
  const whenReady = new Promise<void>((resolve) => (ready = resolve));
  const api = await part('HTTP API', 'POOLGATE_HTTP_PORT', settings.httpPort, () =>
    startHttpApi({
      host: settings.host,
      port: settings.httpPort,
      routes: ROUTES,
      invoke: async (functionId, event) => {
        await whenReady;
        return (await meter.timeInvocation(functionId, true, () => invokeFunction(functionId, event))) as never;
      },
      mounts: [
        meter.mount(),
        secretsManagerMount(
          '/_aws/secretsmanager',
          localSecrets(home, credentials, modelArtsProjectSecretArns(policy)),
        ),
        sesv2Mount('/_aws/sesv2', outbox, options.printUrls ? printMail : undefined),
        jwksMount(issuer),
        slackStandinMount(outbox),
        outboxMount(outbox),
        docsMount(),
        indexMount((): IndexLinks => ({ api: publicUrl, modelArts: modelArts.url, outboxDir: outbox })),
      ],
    }),
  );
  const publicUrl: string = (settings.publicUrl ?? api.url).replace(/\/$/, '');

  const functionRefs = Object.fromEntries(WORKFLOW_FUNCTIONS.map((id) => [id, id])) as Record<
    WorkflowFunctionId,
    string
  >;
  const stepFunctions = await part('Step Functions', 'POOLGATE_SFN_PORT', settings.stepFunctionsPort, () =>
    startStepFunctionsEmulator({
      host: settings.host,
      port: settings.stepFunctionsPort,
      dataDir: join(home, 'step-functions'),
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      definition: buildWorkflowDefinition(functionRefs),
      invokeFunction: async (functionRef, payload) => {
        await whenReady;
        if (!isFunctionId(functionRef)) throw new Error(`unknown function ${functionRef}`);
        return meter.timeInvocation(functionRef, false, () => invokeFunction(functionRef, payload));
      },
      retryScale: settings.retryScale,
    }),
  );

  // The handlers read these at cold start, exactly as the stack sets them on AWS.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SFN: stepFunctions.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `${api.url}/_aws/secretsmanager`,
    AWS_ENDPOINT_URL_SESV2: `${api.url}/_aws/sesv2`,
    POWERTOOLS_SERVICE_NAME: 'poolgate',
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
    [ENV.tableName]: LOCAL_TABLE_NAME,
    [ENV.stateMachineArn]: LOCAL_STATE_MACHINE_ARN,
    [ENV.policyFile]: settings.policyFile,
    [ENV.publicBaseUrl]: publicUrl,
    [ENV.linkKeySecretId]: LOCAL_SECRET_IDS.linkKey,
    [ENV.modelArtsCredentialsSecretId]: LOCAL_SECRET_IDS.modelArtsCredentials,
    [ENV.modelArtsEndpoint]: modelArts.url,
    [ENV.mailFrom]: policy.mail?.from ?? 'poolgate@localhost',
    [ENV.jwtIssuer]: issuer.issuer,
    [ENV.jwtAudience]: issuer.audience,
    [ENV.jwksUri]: `${api.url}/.well-known/jwks.json`,
    [ENV.jwtAlgorithms]: encodeJwtAlgorithms(algorithms),
    [ENV.jwtRequireVerifiedEmail]: String(policy.auth?.requireVerifiedEmail ?? false),
    [ENV.slackBotTokenSecretId]: LOCAL_SECRET_IDS.slackBotToken,
    [ENV.slackSigningSecretId]: LOCAL_SECRET_IDS.slackSigningSecret,
    [ENV.slackApiUrl]: `${api.url}${SLACK_STANDIN_PREFIX}`,
  });
  // The handlers' own client (built now, after the endpoints are set), counted at the SDK.
  meter.meterDynamoDb(documentClient());
  ready();
  const schedules = [
    every(
      policy.quotaReconciliation.enabled ? policy.quotaReconciliation.intervalSeconds : undefined,
      'reconcileQuota',
      meter,
    ),
    every(SWEEP_SUBMITTED_EVERY_SECONDS, 'sweepSubmitted', meter),
  ];

  const endpoints: LocalStackEndpoints = {
    api: api.url,
    stepFunctions: stepFunctions.url,
    dynamoDb: dynamo.url,
    modelArts: modelArts.url,
    publicUrl,
    outbox,
    home,
  };
  writeFileSync(join(home, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const schedule of schedules) schedule.stop();
      await api.close();
      await stepFunctions.close();
      await modelArts.close();
      await dynamo.close();
    })());

  if (options.handleSignals) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void stop().then(() => process.exit(0));
      });
    }
  }
  if (options.printUrls) printBanner(endpoints);
  return { endpoints, stop };
}

/**
 * A scheduled function every `seconds` (undefined: never): the same handler EventBridge invokes on
 * AWS. This local timer never overlaps runs: a run still going when the next is due makes that one
 * skip. That is a property of the timer only. On AWS the rule invokes the function asynchronously at
 * its rate whether or not the last invocation has finished, delivery is at least once (an event can
 * arrive twice), and a failed invocation is tried again; nothing limits the function's concurrency.
 * So two runs can overlap there, and each scheduled handler must be safe when they do (the quota
 * reconciliation's writes are conditional on the share it read; the sweep names each execution after
 * its request, so starting it twice changes nothing).
 */
function every(
  seconds: number | undefined,
  functionId: ScheduledFunctionId,
  meter: Pick<UsageMeter, 'timeScheduledRun'>,
): { stop(): void } {
  if (seconds === undefined) return { stop: () => undefined };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    meter
      .timeScheduledRun(functionId, () => invokeFunction(functionId, { source: 'poolgate.local-schedule' }))
      .catch((error: unknown) => process.stderr.write(`${functionId} failed: ${(error as Error).message}\n`))
      .finally(() => (running = false));
  }, seconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function printBanner(e: LocalStackEndpoints): void {
  process.stdout.write(
    [
      'poolgate local stack is up',
      `  API               ${e.api}   (health: ${e.api}/health)`,
      `  Step Functions    ${e.stepFunctions}`,
      `  DynamoDB          ${e.dynamoDb}`,
      `  ModelArts (sim)   ${e.modelArts}`,
      `  outbox            ${e.outbox}   (links decoded: npx poolgate outbox)`,
      `  data              ${e.home}`,
      `Start here:   ${e.api}/ (docs, API description, outbox, the simulator's node pools)`,
      'Get a token:  npx poolgate dev-token alice@example.com',
      '',
    ].join('\n'),
  );
}

function printMail(mail: { to: readonly string[]; subject: string; links: readonly string[]; file: string }): void {
  process.stdout.write(`mail to ${mail.to.join(', ')}: ${mail.subject}\n${mail.links.map((l) => `  ${l}\n`).join('')}`);
}
