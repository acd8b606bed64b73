// A provider's rate limiter in a process of its own, in front of the sandbox CRM:
// `node provider-edge-process.mjs <upstream url> <requests> <per ms>`. It stamps each
// arrival and answers 429 past `requests` in one fixed window of `per ms`, as a
// provider's edge does, then forwards the rest. It runs apart from Jest because a
// limiter in the test process stamps arrivals only as well as that process's
// event loop allows: a 500 ms pause there (GC in a worker that has run a hundred
// suites) lands half a second of sends in one window the senders never crowded.
import { Agent, createServer, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const [upstreamUrl, requestsArg, perMsArg] = process.argv.slice(2);
const upstream = new URL(upstreamUrl);
const limit = Number(requestsArg);
const perMs = Number(perMsArg);
const agent = new Agent({ keepAlive: true });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
/** Every arrival: when, what, and the status answered (0 until answered). */
const arrivals = [];
let window = { start: 0, count: 0 };
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
const endToEnd = (headers) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

const server = createServer((req, res) => {
  const at = Date.now();
  if (req.url === '/__edge/arrivals') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ arrivals, lagMaxMs: lag.max / 1e6 }));
    return;
  }
  const [path, query = ''] = (req.url ?? '/').split(/(?=\?)/);
  const arrival = { at, method: req.method, path, query, status: 0 };
  arrivals.push(arrival);
  const start = Math.floor(at / perMs) * perMs;
  if (window.start !== start) window = { start, count: 0 };
  if (window.count >= limit) {
    arrival.status = 429;
    arrival.retryAfter = String(Math.ceil((start + perMs - at) / 1000));
    req.resume();
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': arrival.retryAfter });
    res.end('{"error":"rate_limited"}');
    return;
  }
  window.count += 1;
  const forward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent,
    },
    (answer) => {
      arrival.status = answer.statusCode;
      res.writeHead(answer.statusCode, endToEnd(answer.headers));
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    arrival.status = 502;
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(forward);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
