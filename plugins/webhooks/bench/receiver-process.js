// A minimal webhook receiver in its own process: counts POSTs and answers 200.
import { createServer } from 'node:http';

let count = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
// A bench that dies mid-run takes its receiver with it.
process.on('disconnect', () => process.exit(1));
process.on('message', (m) => {
  if (m.type === 'count') process.send({ type: 'count', count });
  if (m.type === 'reset') count = 0;
  if (m.type === 'stop') server.close(() => process.exit(0));
});
