import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { awsErrorBody } from '../errors.js';
import type { Caller } from '../iam/authorizer.js';
import { accessDeniedMessage } from '../iam/policy/index.js';
import { AwsError, signedCall, type AwsApiOptions } from './aws-common.js';
import { requestContext } from './request-context.js';

const TARGETS = {
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
  SpencerFrontendService: 'ecr-public',
} as const;
type Service = (typeof TARGETS)[keyof typeof TARGETS];

/**
 * ECR and ECR Public, SigV4 signed and authorized by the policy evaluator.
 * This slice serves `GetAuthorizationToken`; the other operations follow.
 */
export function awsJsonHandler({ tokens, authorizer }: AwsApiOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId);
    try {
      const [service, operation] = target(request.headers['x-amz-target']);
      const { body, caller } = await signedCall(request, authorizer, { expectedService: service });
      const result = await dispatch(service, operation, parseInput(body), caller, request);
      return await reply.code(200).header('Content-Type', 'application/x-amz-json-1.1').send(Buffer.from(JSON.stringify(result)));
    } catch (err) {
      const error = err instanceof AwsError ? err : AwsError.of('INTERNAL');
      if (!(err instanceof AwsError)) request.log.error({ err }, 'AWS API request failed');
      return reply
        .code(error.status)
        .headers({ 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': error.type })
        .send(Buffer.from(JSON.stringify(awsErrorBody(error.type, error.message))));
    }
  };

  async function dispatch(service: Service, operation: string, _input: Record<string, unknown>, caller: Caller, request: FastifyRequest): Promise<unknown> {
    if (operation !== 'GetAuthorizationToken') {
      throw AwsError.of('UNKNOWN_OPERATION', `${operation} is not implemented yet`);
    }
    const context = requestContext(request);
    // ECR Public also asks for sts:GetServiceBearerToken, as AWS does.
    const actions = service === 'ecr-public' ? ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken'] : ['ecr:GetAuthorizationToken'];
    for (const action of actions) {
      const decision = await authorizer.authorize(caller, action, '*', caller.principal.accountId, context);
      if (decision.decision !== 'Allow') {
        throw new AwsError('AccessDeniedException', accessDeniedMessage({ principal: caller.principal, action, resource: '*' }, decision), 400);
      }
    }
    const { token: password, expiresAt } = tokens.mintFor(caller, caller.accessKeyId ?? '', service);
    const authorizationToken = Buffer.from(`AWS:${password}`).toString('base64');
    if (service === 'ecr-public') return { authorizationData: { authorizationToken, expiresAt } };
    const proxyEndpoint = `${request.protocol}://${request.headers.host ?? request.hostname}`;
    return { authorizationData: [{ authorizationToken, expiresAt, proxyEndpoint }] };
  }
}

function target(header: string | string[] | undefined): [Service, string] {
  const value = Array.isArray(header) ? header[0] : header;
  const dot = value?.indexOf('.') ?? -1;
  const prefix = value?.slice(0, dot);
  const service = prefix !== undefined && Object.hasOwn(TARGETS, prefix) ? TARGETS[prefix as keyof typeof TARGETS] : undefined;
  if (!value || dot < 0 || !service) throw AwsError.of('UNKNOWN_OPERATION', `unknown X-Amz-Target: ${String(value).slice(0, 200)}`);
  return [service, value.slice(dot + 1)];
}

function parseInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    throw AwsError.of('SERIALIZATION');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw AwsError.of('SERIALIZATION');
  return input as Record<string, unknown>;
}
