import type { App } from 'aws-cdk-lib';
import { PoolgateDataStack } from './poolgate-data-stack';
import { PoolgateStack, type PoolgateStackProps } from './poolgate-stack';

/** Everything of PoolgateStackProps but the data, which the data stack provides. */
export type PoolgateAppProps = Omit<PoolgateStackProps, 'table' | 'secrets'>;

export interface Poolgate {
  /** `<name>Data`: the table and the secrets, termination protection on, everything retained. */
  readonly data: PoolgateDataStack;
  /** `<name>`: the service, reading the table and secrets of `data`. */
  readonly service: PoolgateStack;
}

/** poolgate's two stacks, as bin/poolgate.ts deploys them and the CDK tests synthesize them. */
export function addPoolgate(app: App, name: string, props: PoolgateAppProps): Poolgate {
  const data = new PoolgateDataStack(app, `${name}Data`, { env: props.env });
  const service = new PoolgateStack(app, name, { ...props, table: data.table.table, secrets: data.secrets });
  return { data, service };
}
