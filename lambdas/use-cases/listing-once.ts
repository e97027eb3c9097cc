/**
 * One scheduled run reads each project and pool from ModelArts once: the quota reconciliation and the
 * drift report share the answer (a failed listing fails for each of them alike, and is
 * tried again next run).
 */
import type { NodePoolListApi } from './ports';

export function listingOncePerPool<A extends NodePoolListApi>(api: A): NodePoolListApi {
  const listed = new Map<string, ReturnType<NodePoolListApi['listNodePools']>>();
  return {
    listNodePools(projectId, poolName) {
      const key = `${projectId}/${poolName}`;
      let answer = listed.get(key);
      if (!answer) {
        answer = api.listNodePools(projectId, poolName);
        listed.set(key, answer);
      }
      return answer;
    },
  };
}
