import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import { isRegistryError, ociErrorBody, RegistryError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { awsJsonHandler, type AwsJsonOptions } from './aws-json.js';
import { awsQueryHandler } from './aws-query.js';
import { registerDownloadUrls } from './download-url.js';
import { registerRepositoryLogos } from './ecr-api/repository-logos.js';
import { registerV2 } from './v2.js';

export interface AppOptions extends AwsJsonOptions {
  registry: Registry;
  authChallenge: 'basic' | 'bearer';
  createRepositoryOnPush: boolean;
  authenticator: Authenticator;
  logger: Logger;
  https?: { cert: Buffer; key: Buffer };
}

/** Builds the HTTP application: every surface on one listener, errors rendered from the one table. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { registry, authenticator, authorizer, account, logger, https } = options;
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
    // Whatever of the body was not read is discarded; the client may not reuse this connection.
    if (!request.raw.readableEnded && request.method !== 'GET' && request.method !== 'HEAD') reply.header('Connection', 'close');
    void reply.code(rendered.status).type('application/json').send(JSON.stringify(ociErrorBody(rendered)));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type('application/json').send(JSON.stringify(ociErrorBody(new RegistryError('NAME_UNKNOWN', `no route for ${request.url.slice(0, 200)}`))));
  });

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
  // The AWS control planes on `/`: a POST is JSON 1.1 with X-Amz-Target (ECR, ECR Public), else the Query protocol (STS, IAM),
  // which also takes GET with its parameters in the URL (presigned URLs).
  const awsJson = awsJsonHandler(options);
  const awsQuery = awsQueryHandler(options);
  app.post('/', (request, reply) => (request.headers['x-amz-target'] !== undefined ? awsJson(request, reply) : awsQuery(request, reply)));
  app.get('/', { exposeHeadRoute: false }, awsQuery);
  return app;
}
