import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../../contracts/bundling';
import { ENV } from '../../contracts/environment';
import { TABLE_INDEXES } from '../../contracts/table';
import { acknowledge } from '../nag';

/** File name of the policy file inside every bundle. */
export const BUNDLED_POLICY_FILE = 'poolgate.config.json';
/** Where the handlers find it: Lambda unpacks the bundle into /var/task (LAMBDA_TASK_ROOT). */
export const BUNDLED_POLICY_PATH = `/var/task/${BUNDLED_POLICY_FILE}`;
/** The lock file NodejsFunction requires at the project root (npm, as the repository uses). */
export const LOCK_FILE = 'package-lock.json';

/**
 * The DynamoDB calls the adapters make (lambdas/adapters/dynamodb: Get, BatchGet, Query, Put,
 * Update, Delete), and nothing else: no Scan, no BatchWrite, no PartiQL, no table management.
 * test/cdk checks that every command the adapters send is in this list.
 */
export const TABLE_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/** CloudWatch namespace of poolgate's business metrics: the stack's name, so two deployments in one account never mix. */
export function metricsNamespace(scope: Construct): string {
  return Stack.of(scope).stackName;
}

export interface PoolgateFunctionProps {
  /**
   * Directory the bundle is built from: the entry must be inside it and it must hold `package-lock.json`.
   * esbuild runs there, so its node_modules are the ones bundled.
   */
  readonly projectRoot: string;
  /** Entry file of the handler (absolute, or relative to `projectRoot`); it must export `handler`. */
  readonly entry: string;
  /**
   * The validated policy file (absolute path). It is copied into the bundle and `POOLGATE_CONFIG`
   * points at the copy, so a function always runs with the policy it was deployed with.
   */
  readonly policyFile: string;
  /** Environment of this function, merged over the house defaults (a value given here wins). @default - the defaults only */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Memory in MB; Lambda's CPU share grows with it, 512 MB keeps cold starts of the bundled SDK short. @default 512 */
  readonly memorySize?: number;
  /** How long the function's log group keeps its events. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default - none */
  readonly description?: string;
}

const MIN_MEMORY_MB = 128;
const MAX_MEMORY_MB = 10_240;

/**
 * The house Lambda function: every default lives here, so the functions of poolgate differ only by
 * entry, environment and grants. Node 22 on arm64; an ESM bundle, minified with source maps, built
 * by the local esbuild (never Docker) with the options of contracts/bundling.ts; X-Ray tracing; its
 * own log group with a retention; the policy file inside the bundle; Powertools' service name and
 * metrics namespace. Its own role with no managed policy: it may write to its own log group and
 * nothing else until bound. `bindTable` and `bindSecret` grant and set the variable naming the
 * resource in one call, so a grant never comes without its variable or the other way round.
 */
export class PoolgateFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PoolgateFunctionProps) {
    const { projectRoot, entry, policyFile } = validate(id, props);
    // A log group we own (retention, removal) instead of the one Lambda creates on first use,
    // which would keep its events forever. Created before super(), hence beside the function.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:CreateLogGroup, and writes to every log group).
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry,
      projectRoot,
      depsLockFilePath: join(projectRoot, LOCK_FILE),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        POWERTOOLS_SERVICE_NAME: 'poolgate',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Business metrics (lambdas/adapters/metrics.ts) are written only where this is set.
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(scope),
        [ENV.policyFile]: BUNDLED_POLICY_PATH,
        ...props.environment,
      },
      bundling: {
        // One definition, shared with the benchmark (contracts/bundling.ts): ESM, node22, minified,
        // source maps, the AWS SDK bundled, the createRequire banner.
        format: LAMBDA_BUNDLING.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
        target: LAMBDA_BUNDLING.target,
        minify: LAMBDA_BUNDLING.minify,
        sourceMap: LAMBDA_BUNDLING.sourcemap,
        sourcesContent: LAMBDA_BUNDLING.sourcesContent,
        externalModules: [...LAMBDA_BUNDLING.external],
        banner: LAMBDA_BUNDLING.banner,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        // esbuild runs in projectRoot, where the alias paths are rooted.
        esbuildArgs: { '--alias': Object.entries(LAMBDA_BUNDLING.alias).map(([from, to]) => `${from}=${to}`) },
        // Synth must work offline and without Docker: esbuild is a devDependency.
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The asset hash is taken from the output, so a policy change alone redeploys the functions.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(policyFile)} ${shellQuote(join(outputDir, BUNDLED_POLICY_FILE))}`,
          ],
        },
      },
    });
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords (added by the Lambda construct) support no resource-level permissions. test/cdk checks that no other statement of a function role has a wildcard resource.',
    );
    acknowledge(
      this,
      'AwsSolutions-L1',
      'Node.js 22 on purpose: the bundles target node22 (contracts/bundling.ts) and the handlers are tested on it; nodejs22.x is a supported Lambda runtime. Moving to a newer runtime is a tested change of this construct, not a silent one (docs/deploy.md, "Upgrades").',
    );
  }

  /**
   * The adapters' item calls (TABLE_DATA_ACTIONS) on the table and on each index of
   * contracts/table.ts, named (no `index/*`), and the table's name in `TABLE_NAME`.
   */
  bindTable(table: ITableV2): this {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...TABLE_DATA_ACTIONS],
        resources: [table.tableArn, ...TABLE_INDEXES.map((index) => `${table.tableArn}/index/${index.indexName}`)],
      }),
    );
    this.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /**
   * Read access to a secret and its ARN in `envVarName`. Only the ARN: the value is fetched at run
   * time (and cached), so it is never in the template, the function's configuration or its logs.
   */
  bindSecret(secret: ISecret, envVarName: string): this {
    secret.grantRead(this);
    this.addEnvironment(envVarName, secret.secretArn);
    return this;
  }
}

function validate(
  id: string,
  props: PoolgateFunctionProps,
): { projectRoot: string; entry: string; policyFile: string } {
  const fail = (message: string): never => {
    throw new Error(`PoolgateFunction ${id}: ${message}`);
  };
  const projectRoot = resolve(props.projectRoot);
  if (!existsSync(join(projectRoot, LOCK_FILE))) fail(`projectRoot ${projectRoot} has no ${LOCK_FILE}`);
  const entry = resolve(projectRoot, props.entry);
  if (relative(projectRoot, entry).startsWith('..')) fail(`entry ${entry} is outside projectRoot ${projectRoot}`);
  if (!existsSync(entry)) fail(`entry ${entry} does not exist`);
  if (!isAbsolute(props.policyFile)) fail(`policyFile must be an absolute path, got ${props.policyFile}`);
  if (!existsSync(props.policyFile) || !statSync(props.policyFile).isFile())
    fail(`policyFile ${props.policyFile} is not a file`);
  const memory = props.memorySize;
  if (memory !== undefined && (!Number.isInteger(memory) || memory < MIN_MEMORY_MB || memory > MAX_MEMORY_MB)) {
    fail(`memorySize must be an integer from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} MB, got ${memory}`);
  }
  return { projectRoot, entry, policyFile: props.policyFile };
}

/** Quotes a path for the bundling shell: the policy file path comes from the operator's environment. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
