import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import { awsErrorBody, ERRORS, isRegistryError, ociErrorBody, RegistryError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { awsJsonHandler, type AwsJsonOptions } from './aws-json.js';
import { awsQueryHandler } from './aws-query.js';
import { registerDownloadUrls } from './download-url.js';
import { registerRepositoryLogos } from './ecr-api/repository-logos.js';
import { registerV2 } from './v2.js';

interface ListenerOptions {
  logger: Logger;
  https?: { cert: Buffer; key: Buffer };
}

/** What the AWS APIs need, except where the registry listener is: buildApp and buildApiApp each know that. */
type ControlPlaneOptions = Omit<AwsJsonOptions, 'registryPort'>;

export interface AppOptions extends ControlPlaneOptions, ListenerOptions {
  registry: Registry;
  authChallenge: 'basic' | 'bearer';
  createRepositoryOnPush: boolean;
  authenticator: Authenticator;
  /** The AWS APIs have a listener of their own (buildApiApp): this one refuses them. */
  separateApiListener: boolean;
}

/**
 * Builds the registry listener's application: `/v2/`, `/auth/token`, layer
 * download URLs and logos, and the AWS APIs unless they have their own
 * listener. Errors are rendered from the one table.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { registry, authenticator, authorizer, account } = options;
  const app = newListenerApp(options, '');

  registerV2(app, {
    registry,
    authenticator,
    authorizer,
    addressing: options.addressing,
    policies: options.policies,
    metadata: options.metadata,
    registrySettings: options.registrySettings,
    createRepositoryOnPush: options.createRepositoryOnPush,
    region: account.region,
    realm: 'Berth',
    challenge: options.authChallenge,
    tokens: options.tokens,
    rootAccessKeyId: account.accessKeyId,
  });
  registerDownloadUrls(app, { registry, apiSigningKey: options.serverKey.apiSigningKey });
  registerRepositoryLogos(app, { metadata: options.metadata });
  if (options.separateApiListener) {
    app.post('/', refuseAwsApi);
    app.get('/', { exposeHeadRoute: false }, refuseAwsApi);
  } else {
    registerAwsApis(app, { ...options, registryPort: undefined });
  }
  return app;
}

/**
 * Builds the application of the AWS APIs' own listener (`--api-listen`):
 * only `/`. The URLs its answers name point at the registry listener's
 * `registryPort` (src/http/addressing.ts registryHost).
 */
export function buildApiApp(options: ControlPlaneOptions & ListenerOptions & { registryPort: number }): FastifyInstance {
  const app = newListenerApp(options, '; this listener serves the AWS APIs only, the registry is on the registry listener');
  registerAwsApis(app, options);
  return app;
}

function newListenerApp({ logger, https }: ListenerOptions, notFoundHint: string): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    ...(https ? { https } : {}),
    // Blob uploads stream for as long as the client sends; only idle sockets time out.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  // Bodies are streamed by the handlers themselves, never buffered by the framework.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.setErrorHandler((error, request, reply) => {
    const registryError = isRegistryError(error) ? error : undefined;
    if (!registryError) request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    const rendered = registryError ?? new RegistryError('INTERNAL');
    reply.headers(rendered.headers);
    closeUnlessBodyRead(request, reply);
    void reply.code(rendered.status).type('application/json').send(JSON.stringify(ociErrorBody(rendered)));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type('application/json').send(JSON.stringify(ociErrorBody(new RegistryError('NAME_UNKNOWN', `no route for ${request.url.slice(0, 200)}${notFoundHint}`))));
  });
  return app;
}

/** Whatever of the body was not read is discarded; the client may not reuse this connection. */
function closeUnlessBodyRead(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.readableEnded && request.method !== 'GET' && request.method !== 'HEAD') reply.header('Connection', 'close');
}

/**
 * The AWS control planes on `/`: a POST is JSON 1.1 with X-Amz-Target (ECR, ECR Public), else the Query protocol (STS, IAM),
 * which also takes GET with its parameters in the URL (presigned URLs).
 */
function registerAwsApis(app: FastifyInstance, options: AwsJsonOptions): void {
  const awsJson = awsJsonHandler(options);
  const awsQuery = awsQueryHandler(options);
  app.post('/', (request, reply) => (request.headers['x-amz-target'] !== undefined ? awsJson(request, reply) : awsQuery(request, reply)));
  app.get('/', { exposeHeadRoute: false }, awsQuery);
}

/** The registry listener's answer to the AWS APIs when they have their own listener: in the JSON protocol's error format to a JSON call, else the registry's. */
async function refuseAwsApi(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const refusal = new RegistryError('UNSUPPORTED', 'the AWS APIs (ECR, ECR Public, IAM, STS) are served on the API listener (api-listen), not on this registry listener');
  if (request.headers['x-amz-target'] === undefined) throw refusal;
  const type = ERRORS[refusal.code].aws;
  closeUnlessBodyRead(request, reply);
  // AWS JSON services answer every client fault with 400.
  return reply
    .code(400)
    .headers({ 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type })
    .send(Buffer.from(JSON.stringify(awsErrorBody(type, refusal.message))));
}
