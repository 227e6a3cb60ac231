// A minimal webhook receiver in its own process: counts POSTs and answers 200. In a paced run it
// also reads each body's message id (`bench-<i>`) to tell how long after its event each arrived.
import { createServer } from 'node:http';

let count = 0;
/** Paced runs: event i was emitted at t0 + floor(i / run) * run / perSecond seconds (wall clock). */
let paced;
let lags = [];
const now = () => performance.timeOrigin + performance.now();
const server = createServer((req, res) => {
  let body = '';
  if (paced) req.on('data', (c) => (body += c));
  else req.resume();
  req.on('end', () => {
    count++;
    if (paced) {
      const i = Number(/bench-(\d+)/.exec(body)?.[1]);
      lags.push(now() - (paced.t0 + ((Math.floor(i / paced.run) * paced.run) / paced.perSecond) * 1000));
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
// A bench that dies mid-run takes its receiver with it.
process.on('disconnect', () => process.exit(1));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
process.on('message', (m) => {
  if (m.type === 'count') process.send({ type: 'count', count });
  if (m.type === 'lags') {
    const s = lags.sort((a, b) => a - b);
    process.send({ type: 'lags', p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] });
  }
  if (m.type === 'reset') {
    count = 0;
    paced = m.paced;
    lags = [];
  }
  if (m.type === 'stop') server.close(() => process.exit(0));
});
