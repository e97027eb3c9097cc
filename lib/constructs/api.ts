import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpFunctionId } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import { acknowledge } from '../nag';

export interface PoolgateApiProps {
  /** Steady rate and burst for every route of the stage. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: ThrottleSettings;
  /** Retention of the access log. @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: RetentionDays;
}

const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

const BEARER =
  "a bearer JWT, verified in the handler (issuer's JWKS, audience, expiry), so that a 401 keeps poolgate's error body";

/**
 * What proves the caller of each function's routes, since no API Gateway authorizer does. A route
 * whose function is missing here fails synth: say how it is protected before it goes public.
 * (Keyed by function id as a plain string, so a function can be listed before its route lands.)
 */
export const ROUTE_PROOFS: Readonly<Record<string, string>> = {
  submit: BEARER,
  getRequest: BEARER,
  listRequests: BEARER,
  cancelRequest: BEARER,
  retryRequest: BEARER,
  deleteNodePool: BEARER,
  patchNodePool: BEARER,
  readNodePools: BEARER,
  nodePoolInventory: BEARER,
  extendLease: `${BEARER}; or a lease reminder's personal link: an HMAC of the lease and the person, checked in the handler, acting only as a member of the owning team or an admin`,
  approvals:
    'a personal approval link: an HMAC of approval id and approver, checked in the handler; a POST also needs the form token of a page poolgate served',
  slackInteractions: "Slack's request signature (signing secret, 5-minute timestamp window), checked in the handler",
  requestPage: 'a signed read-only link (an HMAC of the request id), checked in the handler',
  openapi: 'nothing: public by design, the API description holds no data',
  health: 'nothing: public by design, it answers {"status":"ok"} and reads nothing',
};

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
      if (value !== undefined && (!Number.isFinite(value) || value <= 0))
        throw new Error(`PoolgateApi ${id}: throttle.${name} must be a positive number, got ${value}`);
    }
    // The stage is made here rather than by HttpApi, whose default stage takes neither throttling nor access logs.
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'poolgate: approval gate for ModelArts node pools',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    this.url = this.httpApi.apiEndpoint;
  }

  /** Wires every route of contracts/routes.ts to its function: one integration per function. */
  addRoutes(functions: Readonly<Record<HttpFunctionId, IFunction>>): void {
    const integrations = new Map<HttpFunctionId, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.functionId);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.functionId}Integration`, functions[route.functionId], {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        });
        integrations.set(route.functionId, integration);
      }
      const proof = ROUTE_PROOFS[route.functionId];
      if (!proof)
        throw new Error(
          `route ${route.method} ${route.path}: say what proves its caller in ROUTE_PROOFS (lib/constructs/api.ts)`,
        );
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
      });
      const reason = `${route.method} ${route.path} has no API Gateway authorizer (an authorizer's 401/403 body would not be poolgate's error shape); its caller is proven by ${proof}.`;
      // (AwsSolutions-COG4, "no Cognito authorizer", checks REST API methods only: nothing to acknowledge here.)
      acknowledge(httpRoute, 'AwsSolutions-APIG4', reason);
    }
  }
}
