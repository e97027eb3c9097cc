/** The single DynamoDB table: key schema and indexes, shared by the stack and the local stack. */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const TABLE_TTL_ATTRIBUTE = 'expiresAtEpoch';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/**
 * Requests by team, by requester and by status (newest first: the sort key is the creation time).
 * What waits for an approver's decision is read from byStatus (AWAITING_APPROVAL), filtered on the
 * request's `approverEmails` and checked against its approval items (docs/decisions.md, "What users touch").
 */
export const TABLE_INDEXES: readonly IndexDefinition[] = [
  { indexName: 'byTeam', partitionKey: 'gsiTeam', sortKey: 'createdAt' },
  { indexName: 'byRequester', partitionKey: 'gsiRequester', sortKey: 'createdAt' },
  { indexName: 'byStatus', partitionKey: 'gsiStatus', sortKey: 'createdAt' },
  /**
   * The next lease event (a reminder point, the end, the deletion): sparse, only node-pool records with a
   * live lease carry `gsiLease`; the lease sweep reads the due ones, oldest first (docs/approvals.md, "Leases").
   */
  { indexName: 'byLease', partitionKey: 'gsiLease', sortKey: 'leaseNextAt' },
];
