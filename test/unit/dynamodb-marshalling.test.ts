/**
 * User-chosen map keys reach DynamoDB (node-pool labels, a volume's extendParams). The SDK spots a
 * plain object by `value.constructor.name`, so a label named `constructor` made the marshaller throw
 * and the submission answer 500 (found by test/reliability/fuzz.test.ts). Stored and read back as given.
 */
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();

it('stores labels and volume parameters whose keys are names of Object.prototype', async () => {
  const keys = { constructor: 'a', toString: 'b', hasOwnProperty: 'c', valueOf: 'd', isPrototypeOf: 'e' };
  const base = requestRecord('r-proto-keys');
  const body = base.body!;
  const record = {
    ...base,
    body: {
      ...body,
      spec: {
        resources: {
          ...body.spec.resources,
          labels: keys,
          dataVolumes: [{ volumeType: 'SAS', size: '100', extendParams: { ...keys, volumeGroup: 'vgpaas' } }],
        },
      },
    },
  } as PoolRequestRecord;
  const repo = new RequestRepository(table.db, table.tableName);
  await expect(repo.create(record)).resolves.toBe(true);
  const stored = await repo.get('r-proto-keys');
  expect(stored?.body?.spec.resources.labels).toEqual(keys);
  expect(stored?.body?.spec.resources.dataVolumes?.[0].extendParams).toEqual({ ...keys, volumeGroup: 'vgpaas' });
});
