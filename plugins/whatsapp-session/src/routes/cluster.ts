import { createRouter, z, type Cluster, type Knex } from '@plugchat/core';

const out = z.object({
  mode: z.enum(['single', 'cluster']),
  answeredBy: z.string(),
  processes: z.array(z.object({ id: z.string(), host: z.string(), pid: z.number(), startedAt: z.string(), stopping: z.boolean(), instances: z.number() })),
  /** Instances that should be connected and that no live process runs right now. */
  unassigned: z.number(),
});

/** Which process runs how many instances (operators): the view for running several processes. */
export function clusterRouter(cluster: Cluster, knex: Knex) {
  return createRouter('/api/whatsapp-session').get('/cluster', { summary: 'The PlugChat processes on this database and how many instances each runs (operators)', operator: true, response: out }, async () => {
    const nodes = await cluster.liveNodes();
    const wanted = Number((await knex('whatsapp_session_instances').where({ wanted: true }).count({ n: '*' }).first())?.n ?? 0);
    if (cluster.mode === 'single') return { mode: cluster.mode, answeredBy: cluster.nodeId, processes: nodes.map((n) => ({ ...n, instances: wanted })), unassigned: 0 };
    const counts: { owner: string; n: number | string }[] = await knex('whatsapp_session_leases').where('expires_at', '>', knex.raw('now()')).groupBy('owner').select('owner').count({ n: '*' });
    const per = new Map(counts.map((c) => [c.owner, Number(c.n)]));
    const held = [...per.values()].reduce((a, b) => a + b, 0);
    return { mode: cluster.mode, answeredBy: cluster.nodeId, processes: nodes.map((n) => ({ ...n, instances: per.get(n.id) ?? 0 })), unassigned: Math.max(0, wanted - held) };
  });
}
