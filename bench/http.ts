/**
 * A small keep-alive HTTP/1.1 client on node:http: streamed request bodies
 * (files are never loaded whole), and response bodies that are buffered,
 * counted and discarded, or hashed while counted.
 */
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ServerName } from './config.js';

/** One server under test as the workloads see it. */
export interface Target {
  name: ServerName;
  label: string;
  baseUrl: string;
  /** Full `Authorization` header value, or undefined for an open server. */
  authorization: string | undefined;
}

export type RequestBody =
  | { kind: 'buffer'; data: Buffer | string }
  | { kind: 'stream'; open: () => Readable; length: number };

export type ResponseSink = 'buffer' | 'discard' | 'hash';

export interface RequestOptions {
  method: string;
  /** A path (`/v2/...`) or an absolute URL, e.g. an upload `Location`. */
  url: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** What to do with the response body; `buffer` by default. */
  sink?: ResponseSink;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body when the sink is `buffer`, else empty. */
  body: Buffer;
  /** Bytes of body received. */
  bytes: number;
  /** `sha256:<hex>` of the body when the sink is `hash`. */
  digest: string | undefined;
}

export class HttpError extends Error {}

export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly target: Target,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  resolve(url: string): URL {
    return new URL(url, this.target.baseUrl);
  }

  request(options: RequestOptions): Promise<HttpResult> {
    const url = this.resolve(options.url);
    const headers: Record<string, string> = { ...options.headers };
    if (this.target.authorization !== undefined) headers['authorization'] = this.target.authorization;
    const body = options.body;
    if (body === undefined) {
      if (options.method === 'PUT' || options.method === 'POST' || options.method === 'PATCH') headers['content-length'] = '0';
    } else {
      headers['content-length'] = String(body.kind === 'buffer' ? Buffer.byteLength(body.data) : body.length);
    }
    const sink = options.sink ?? 'buffer';

    return new Promise<HttpResult>((resolvePromise, reject) => {
      const req = httpRequest(
        url,
        { method: options.method, headers, agent: this.agent, signal: options.signal },
        (res) => {
          const chunks: Buffer[] = [];
          const hash = sink === 'hash' ? createHash('sha256') : undefined;
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (sink === 'buffer') chunks.push(chunk);
            else if (hash !== undefined) hash.update(chunk);
          });
          res.on('error', reject);
          res.on('close', () => {
            if (!res.complete) reject(new HttpError(`${options.method} ${url.pathname}: connection closed mid-response after ${bytes} bytes`));
          });
          res.on('end', () => {
            resolvePromise({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: sink === 'buffer' ? Buffer.concat(chunks) : Buffer.alloc(0),
              bytes,
              digest: hash === undefined ? undefined : `sha256:${hash.digest('hex')}`,
            });
          });
        },
      );
      req.on('error', reject);
      req.once('socket', (socket) => socket.setNoDelay(true));
      if (body === undefined) {
        req.end();
      } else if (body.kind === 'buffer') {
        req.end(body.data);
      } else {
        const source = body.open();
        source.on('error', (err) => req.destroy(err));
        source.pipe(req);
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws unless the status is one of `expected`, quoting the start of the body. */
export function expectStatus(res: HttpResult, expected: readonly number[], what: string): void {
  if (expected.includes(res.status)) return;
  const snippet = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).replace(/\s+/g, ' ').trim();
  throw new HttpError(`${what}: HTTP ${res.status}${snippet === '' ? '' : ` ${snippet}`}`);
}

export function header(res: HttpResult, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function requireHeader(res: HttpResult, name: string, what: string): string {
  const value = header(res, name);
  if (value === undefined || value === '') throw new HttpError(`${what}: response has no ${name} header`);
  return value;
}

/** The `<url>` of an RFC 8288 `Link: <url>; rel="next"` header, if any. */
export function nextLink(res: HttpResult): string | undefined {
  const link = header(res, 'link');
  if (link === undefined) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return match?.[1];
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
