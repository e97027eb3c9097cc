import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, PayloadFormatVersion, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpFunctionId } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';

export interface PoolgateApiProps {
  /** Steady rate and burst for every route of the stage. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: ThrottleSettings;
  /** Retention of the access log. @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: RetentionDays;
}

const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * One JSON line per request. No query string (request pages carry their signature there), no
 * headers (Authorization, cookies) and no bodies: `$context.path` is the path alone.
 */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  time: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
} as const;

/**
 * The HTTP API: exactly the routes of contracts/routes.ts, payload format 2.0, a throttled `$default`
 * stage with access logs. No API Gateway authorizer, on purpose: the handlers verify bearer tokens
 * themselves so that a 401 keeps poolgate's `{"error_code","error_msg"}` body (an authorizer answers
 * with its own), and approval links and Slack interactions carry their own proof instead of a token.
 */
export class PoolgateApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  /**
   * The API's base URL without a trailing slash (the `$default` stage has no path). It is the API
   * resource's own `ApiEndpoint` attribute and the API depends on none of our resources (routes and
   * integrations are separate resources), so functions can receive it while the routes depend on them.
   */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PoolgateApiProps = {}) {
    super(scope, id);
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    for (const [name, value] of Object.entries(throttle)) {
      if (value !== undefined && (!Number.isFinite(value) || value <= 0)) throw new Error(`PoolgateApi ${id}: throttle.${name} must be a positive number, got ${value}`);
    }
    // The stage is made here rather than by HttpApi, whose default stage takes neither throttling nor access logs.
    this.httpApi = new HttpApi(this, 'HttpApi', { description: 'poolgate: approval gate for ModelArts node pools', createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)) },
    });
    this.url = this.httpApi.apiEndpoint;
  }

  /** Wires every route of contracts/routes.ts to its function: one integration per function. */
  addRoutes(functions: Readonly<Record<HttpFunctionId, IFunction>>): void {
    const integrations = new Map<HttpFunctionId, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.functionId);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.functionId}Integration`, functions[route.functionId], { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
        integrations.set(route.functionId, integration);
      }
      this.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
    }
  }
}
