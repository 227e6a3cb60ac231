// npm run bench (scale-out part): several PlugChat processes on one PostgreSQL with 30 connected
// instances on the sandbox network. Reports instances per process at steady state, the time a
// killed process's instances take to be connected again elsewhere (median and max over 5 kills),
// and send throughput with three processes against one.
import { Api, createFleet, leaseOwners, pairInstances, sleep, waitUntil } from '../test/fleet.js';

const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const INSTANCES = Number(process.env.BENCH_CLUSTER_INSTANCES || 30);
const KILLS = Number(process.env.BENCH_CLUSTER_KILLS || 5);
const SENDS = Number(process.env.BENCH_CLUSTER_SENDS || 3000);
const CUSTOMERS = 10;
const BIZ = '55119800';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const up = (fleet) => fleet.nodes.filter((n) => n && n.proc.exitCode === null && !n.proc.signalCode);
const perProcess = async (fleet) => {
  const counts = new Map();
  for (const o of (await leaseOwners(fleet.databaseUrl)).values()) counts.set(o, (counts.get(o) ?? 0) + 1);
  return fleet.nodes.map((n) => counts.get(n.node) ?? 0);
};

async function withFleet(processes, fn) {
  const fleet = await createFleet({ baseUrl: PG_URL, sessionSettings: { queueLimit: 100000 } });
  try {
    process.stdout.write(`  starting ${processes} process(es) and pairing ${INSTANCES} instances… `);
    await fleet.startAll(processes);
    const paired = await pairInstances(fleet, INSTANCES, { bizPrefix: BIZ });
    console.log('done');
    return await fn(fleet, paired);
  } finally {
    await fleet.cleanup();
  }
}

/** Sends SENDS texts round-robin over the instances and the processes; seconds until all are at the phones. */
async function throughput(fleet, paired) {
  const phones = Array.from({ length: CUSTOMERS }, (_, i) => fleet.network.createPhone(`552198800${String(i).padStart(4, '0')}`));
  const inbox = () => phones.reduce((n, p) => n + p.messages().filter((m) => m.direction === 'in' && m.text?.startsWith('vazão ')).length, 0);
  const clients = paired.instances.map((inst) => up(fleet).map((n) => new Api(`${n.url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': paired.key })));
  const started = performance.now();
  let next = 0;
  // 32 clients at once, as an application's workers would.
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= SENDS) return;
        const viaProcess = clients[i % INSTANCES][i % clients[0].length];
        const res = await viaProcess.post('/send-text', { phone: phones[i % CUSTOMERS].phone, message: `vazão ${i}` });
        if (res.status !== 200) throw new Error(`send ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );
  const accepted = (performance.now() - started) / 1000;
  await waitUntil(async () => inbox() >= SENDS, 600_000, 'every text at the phones');
  const seconds = (performance.now() - started) / 1000;
  return { accepted, seconds };
}

console.log(`Scale-out on PostgreSQL: ${INSTANCES} instances on the sandbox network, real Baileys clients`);

const three = await withFleet(3, async (fleet, paired) => {
  const balanceStart = performance.now();
  await waitUntil(async () => (await perProcess(fleet)).every((n) => n === INSTANCES / 3), 120_000, 'an even spread');
  const spread = await perProcess(fleet);
  console.log(`  instances per process at steady state: ${spread.join(' / ')} (even ${((performance.now() - balanceStart) / 1000).toFixed(1)} s after pairing)`);

  const failovers = [];
  for (let k = 0; k < KILLS; k++) {
    const owners = await leaseOwners(fleet.databaseUrl);
    const victim = k % 3;
    const victimNode = fleet.nodes[victim].node;
    const theirs = paired.instances.filter((inst) => owners.get(inst.id) === victimNode);
    await fleet.kill(victim);
    const killed = performance.now();
    await waitUntil(
      async () => {
        const d = fleet.devices();
        const now = await leaseOwners(fleet.databaseUrl);
        return theirs.every((inst) => now.get(inst.id) && now.get(inst.id) !== victimNode && d.find((x) => x.phone === inst.phone)?.connections === 1);
      },
      120_000,
      'the take-over',
    );
    const s = (performance.now() - killed) / 1000;
    failovers.push(s);
    console.log(`  kill ${k + 1}: ${theirs.length} instances connected elsewhere after ${s.toFixed(1)} s`);
    await fleet.start(victim);
    await waitUntil(async () => (await perProcess(fleet)).every((n) => n === INSTANCES / 3), 120_000, 'the spread after the restart');
  }
  console.log(`  failover (kill → every instance connected on another process): median ${median(failovers).toFixed(1)} s, max ${Math.max(...failovers).toFixed(1)} s (bound: failoverSeconds = 15)`);
  await sleep(1_000);
  return throughput(fleet, paired);
});
const one = await withFleet(1, (fleet, paired) => throughput(fleet, paired));

const rate = (r) => SENDS / r.seconds;
console.log(`  send throughput, ${SENDS} texts over ${INSTANCES} instances (accepted → at the phones):`);
console.log(`    1 process:   ${rate(one).toFixed(0)} msg/s (API accepted all in ${one.accepted.toFixed(1)} s, phones had all after ${one.seconds.toFixed(1)} s)`);
console.log(`    3 processes: ${rate(three).toFixed(0)} msg/s (API accepted all in ${three.accepted.toFixed(1)} s, phones had all after ${three.seconds.toFixed(1)} s), ×${(rate(three) / rate(one)).toFixed(2)}`);
process.exit(0);
