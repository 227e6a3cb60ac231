// The ceiling: a bare Koa 3 hello-world on the same machine and Node.
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { greeting: 'Hello' };
});
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
