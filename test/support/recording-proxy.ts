/**
 * A transparent HTTP proxy on 127.0.0.1 that sits between the clients and a
 * registry and records every request: method, path, status, the headers that
 * matter to the distribution protocol and the body of error responses. Tests
 * use it to assert what a client actually did (a cross-repository mount,
 * say) the same way for every registry, and failure messages include the
 * last exchanges, so a failing client is reported with the request and the
 * response that broke it.
 *
 * The Host header is passed through unchanged, so registries that build
 * absolute Location URLs from it send clients back through the proxy.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  seq: number;
  method: string;
  /** Path and query as sent by the client. */
  url: string;
  status: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  /** First bytes of the response body when status >= 400. */
  errorBody?: string;
  userAgent: string;
  durationMs: number;
}

const REQUEST_HEADERS = ['content-type', 'content-length', 'content-range', 'range', 'accept', 'transfer-encoding'];
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'range',
  'location',
  'docker-content-digest',
  'docker-upload-uuid',
  'www-authenticate',
  'oci-subject',
  'link',
];
const ERROR_BODY_BYTES = 2048;

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (value !== undefined) picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

export class RecordingProxy {
  readonly exchanges: RecordedExchange[] = [];
  private seq = 0;
  private server: Server | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const started = Date.now();
      const seq = ++this.seq;
      const exchange: RecordedExchange = {
        seq,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        status: 0,
        requestHeaders: pick(req.headers, REQUEST_HEADERS),
        responseHeaders: {},
        userAgent: String(req.headers['user-agent'] ?? ''),
        durationMs: 0,
      };
      this.exchanges.push(exchange);
      const upstream = httpRequest(
        {
          host: this.targetHost,
          port: this.targetPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (upRes) => {
          exchange.status = upRes.statusCode ?? 0;
          exchange.responseHeaders = pick(upRes.headers, RESPONSE_HEADERS);
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
          if (exchange.status >= 400) {
            const body: Buffer[] = [];
            let size = 0;
            upRes.on('data', (b: Buffer) => {
              if (size < ERROR_BODY_BYTES) {
                body.push(b);
                size += b.length;
              }
            });
            upRes.on('end', () => {
              exchange.errorBody = Buffer.concat(body).toString('utf8').slice(0, ERROR_BODY_BYTES);
            });
          }
          upRes.on('end', () => {
            exchange.durationMs = Date.now() - started;
          });
          upRes.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        exchange.status = 502;
        exchange.errorBody = `proxy: upstream error: ${err.message}`;
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(exchange.errorBody);
        } else {
          res.destroy(err);
        }
      });
      req.on('aborted', () => upstream.destroy());
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Exchanges recorded since `mark` (a value of `exchanges.length` taken earlier). */
  since(mark: number): RecordedExchange[] {
    return this.exchanges.slice(mark);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.agent.destroy();
  }
}

/** One line per exchange, with the body of error responses. */
export function formatExchanges(exchanges: readonly RecordedExchange[], max = 40): string {
  const shown = exchanges.slice(-max);
  const lines = shown.map((e) => {
    const req = Object.entries(e.requestHeaders)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    const res = Object.entries(e.responseHeaders)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    const url = e.url.length > 200 ? `${e.url.slice(0, 200)}…` : e.url;
    let line = `#${e.seq} ${e.method} ${url}${req ? ` [${req}]` : ''} -> ${e.status}${res ? ` [${res}]` : ''}`;
    if (e.errorBody) line += `\n    body: ${e.errorBody.replace(/\s+/g, ' ').slice(0, 600)}`;
    return line;
  });
  const skipped = exchanges.length - shown.length;
  return (skipped > 0 ? `(${skipped} earlier exchanges not shown)\n` : '') + lines.join('\n');
}
