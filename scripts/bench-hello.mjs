// The baseline npm run bench compares the status poll with: Express's hello-world JSON route,
// alone in its own process on a free loopback port (printed as "listening <port>").
import express from 'express';

const app = express();
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
