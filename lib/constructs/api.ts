import { CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HttpFunctionId } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import type { PoolgateFunction } from './poolgate-function';

export interface PoolgateApiProps {
  /** @default 50 requests per second, bursts of 100 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * The HTTP API: exactly the routes of contracts/routes.ts, nothing else. No API Gateway authorizer:
 * the handlers verify bearer tokens themselves, so every 401 keeps poolgate's error body; approval
 * pages and Slack interactions carry their own proof.
 */
export class PoolgateApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: PoolgateApiProps = {}) {
    super(scope, id);
    this.api = new HttpApi(this, 'HttpApi', { description: 'poolgate: approval gate for ModelArts node pools' });
    const stage = this.api.defaultStage?.node.defaultChild as CfnStage;
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    stage.defaultRouteSettings = { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit };
    // The path without the query string (approval links carry their signature there) and no headers.
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
  }

  /** Wires every route of contracts/routes.ts to its function. */
  addRoutes(functions: Record<HttpFunctionId, PoolgateFunction>): void {
    const integrations = new Map<HttpFunctionId, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.functionId);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.functionId}Integration`, functions[route.functionId]);
        integrations.set(route.functionId, integration);
      }
      this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
    }
  }
}
