// A bare `node:http` server: the machine's HTTP ceiling for `npm run bench`.
// Run as a child process (so it does not share the load generator's event
// loop); answers every request with a JSON body of BODY_LENGTH bytes, the
// length of the token API's answer. Prints its port once listening.
import { createServer } from 'node:http';

const length = Number(process.env.BODY_LENGTH ?? 200);
const prefix = '{"pad":"';
const suffix = '"}';
const body = Buffer.from(
  `${prefix}${'x'.repeat(Math.max(0, length - prefix.length - suffix.length))}${suffix}`,
);
const server = createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
  });
  response.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
