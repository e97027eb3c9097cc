import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * How items are turned into DynamoDB attributes. `convertClassInstanceToMap`: the SDK recognises a
 * plain object by `value.constructor.name === "Object"`, so a map with a key named `constructor`
 * (a node-pool label `{"constructor": "x"}` is valid) is "Unsupported type" without it, and the
 * request failed with 500. poolgate stores only plain objects, Sets and scalars.
 */
export const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** One document client per process; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
let client: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: MARSHALL_OPTIONS });
  return client;
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
