/**
 * cdk-nag (AwsSolutions, run by bin/app.ts on every synth) findings that poolgate accepts, each
 * acknowledged on the narrowest construct with the reason a reviewer reads. cdk-nag 3 acknowledges
 * through CDK's own Validations API: one exact finding id per acknowledgement, no patterns.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Acknowledges one finding on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The AwsSolutions-IAM5 finding of a wildcard resource, spelled as cdk-nag spells it (`<AWS::Region>`, `<Logical.Arn>`). */
export function wildcardResource(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}
