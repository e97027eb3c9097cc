import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from '../../contracts/environment';

/** Where the policy file sits inside every bundle. */
export const BUNDLED_POLICY_PATH = '/var/task/poolgate.config.json';

export interface PoolgateFunctionProps {
  /** Entry file of the handler (absolute). */
  readonly entry: string;
  /** The policy file copied into the bundle (absolute), read by the handler at cold start. */
  readonly policyFile: string;
  /** Merged over the defaults. */
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 — Lambda's CPU share grows with memory; 512 MB keeps cold starts short. */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The house Lambda function: every default in one place (Node 22 on arm64, ESM bundle minified with
 * source maps by the local esbuild, X-Ray tracing, a log group with retention, the policy file in the
 * bundle), and one-call bindings for the table and secrets.
 */
export class PoolgateFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PoolgateFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const functionProps: NodejsFunctionProps = {
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'poolgate',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        [ENV.policyFile]: BUNDLED_POLICY_PATH,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // The AWS SDK is bundled (pinned by package-lock, tree-shaken), not taken from the runtime.
        externalModules: [],
        // ESM bundles of CommonJS dependencies need `require` (DESIGN, bundle facts).
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        mainFields: ['module', 'main'],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, outputDir: string) => [`cp "${props.policyFile}" "${outputDir}/poolgate.config.json"`],
        },
      },
    };
    super(scope, id, functionProps);
  }

  /** Read/write access to the table and its name in TABLE_NAME. */
  bindTable(table: ITableV2): this {
    table.grantReadWriteData(this);
    this.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /** Read access to a secret and its ARN (never its value) in `envName`. */
  bindSecret(secret: ISecret, envName: string): this {
    secret.grantRead(this);
    this.addEnvironment(envName, secret.secretArn);
    return this;
  }
}
