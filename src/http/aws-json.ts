import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MODELS, OPERATIONS, resourceArn, serviceForTarget, type AwsService, type OperationAuthorization } from '../aws/operations.js';
import { serializeOutput } from '../aws/serialize.js';
import { validateInput, type ValidatedInput } from '../aws/validate.js';
import { awsErrorBody, ERRORS, isRegistryError } from '../errors.js';
import type { Caller } from '../iam/authorizer.js';
import { accessDeniedMessage } from '../iam/policy/index.js';
import { isAccountId, qualifiedName, requireRepositoryName } from '../names.js';
import { AwsError, signedCall, type AwsApiOptions } from './aws-common.js';
import type { RepositoryAddress } from './addressing.js';
import type { EcrApiDeps, EcrCall, EcrHandler } from './ecr-api/call.js';
import { ecrHandlers } from './ecr-api/index.js';
import { REQUEST_BODY_LIMITS } from './ecr-api/body-limits.js';
import { requestContext } from './request-context.js';

export type AwsJsonOptions = AwsApiOptions & EcrApiDeps;

/**
 * ECR and ECR Public: AWS JSON 1.1 over `POST /` with `X-Amz-Target`. One
 * dispatcher for every operation: SigV4, validation of the body against the
 * botocore model (src/aws), authorization of the operation's IAM action on
 * its resource (with the repository's policies as resource policies), the
 * handler (src/http/ecr-api), and serialization of the result against the
 * output shape. Errors are `{"__type","message"}` with `x-amzn-ErrorType`.
 */
export function awsJsonHandler(options: AwsJsonOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const { authorizer, policies, account } = options;
  const handlers = ecrHandlers(options);

  const authorizeOn = async (caller: Caller, request: FastifyRequest, action: string, resource: string, accountId: string, repository?: RepositoryAddress): Promise<void> => {
    const resourcePolicies = repository ? await policies.forRepository(repository.qualified) : [];
    const decision = await authorizer.authorize(caller, action, resource, accountId, requestContext(request), resourcePolicies);
    if (decision.decision !== 'Allow') {
      throw new AwsError('AccessDeniedException', accessDeniedMessage({ principal: caller.principal, action, resource }, decision), 400);
    }
  };

  /**
   * ECR Public names a registry by account id or by its alias (RegistryIdOrAlias); ECR by account id.
   * An unknown alias is RegistryNotFoundException where the operation's model lists it, else RepositoryNotFoundException.
   */
  const registryIdOf = async (service: AwsService, operation: string, input: ValidatedInput, caller: Caller): Promise<string> => {
    if (typeof input.registryId !== 'string') return caller.principal.accountId;
    if (service !== 'ecr-public' || isAccountId(input.registryId)) return input.registryId;
    const account = await options.addressing.accountByAlias(input.registryId);
    if (account) return account.accountId;
    const message = `No registry has the alias '${input.registryId}'`;
    if (MODELS[service].operations[operation]?.errors.includes('RegistryNotFoundException')) throw new AwsError('RegistryNotFoundException', message, 400);
    throw AwsError.of('NAME_UNKNOWN', message);
  };

  const buildCall = (service: AwsService, operation: string, input: ValidatedInput, caller: Caller, request: FastifyRequest, registryId: string): EcrCall => {
    const kind = service === 'ecr-public' ? 'public' : 'private';
    const arnOf = (repository: RepositoryAddress): string => resourceArn(service, 'repository', { region: account.region, accountId: repository.registry.accountId, repositoryName: repository.name });
    const call: EcrCall = {
      service,
      operation,
      input,
      caller,
      request,
      registryId,
      repository: undefined,
      repositoryArn: arnOf,
      authorize: async (action, target) => {
        if ('repository' in target) await authorizeOn(caller, request, action, arnOf(target.repository), target.repository.registry.accountId, target.repository);
        else await authorizeOn(caller, request, action, target.resource, target.accountId);
      },
      allowed: async (action, repository) => {
        try {
          await call.authorize(action, { repository });
          return true;
        } catch (err) {
          if (err instanceof AwsError && err.type === 'AccessDeniedException') return false;
          throw err;
        }
      },
    };
    const repositoryName = typeof input.repositoryName === 'string' ? input.repositoryName : undefined;
    if (repositoryName !== undefined) {
      call.repository = repositoryAddress({ accountId: registryId, kind }, repositoryName);
    }
    return call;
  };

  /** The operation's own action (and any further ones) on its resource. */
  const authorizeOperation = async (call: EcrCall, authorization: OperationAuthorization): Promise<void> => {
    const { caller, request } = call;
    let resource = '*';
    let accountId = call.registryId;
    let repository: RepositoryAddress | undefined;
    if (authorization.resource === 'repository' && authorization.repositorySource === 'resourceArn') {
      repository = repositoryFromArn(call.service, call.input.resourceArn);
      call.repository = repository;
      call.registryId = repository.registry.accountId;
    } else if (authorization.resource === 'repository' && authorization.repositorySource === 'repositoryName') {
      repository = call.repository;
    }
    if (repository) {
      resource = call.repositoryArn(repository);
      accountId = repository.registry.accountId;
    } else if (authorization.resource === 'registry') {
      resource = resourceArn(call.service, 'registry', { region: account.region, accountId: call.registryId });
    }
    // Listing operations (repositoryNames) are checked per repository by their handlers.
    if (authorization.repositorySource !== 'repositoryNames') await authorizeOn(caller, request, authorization.action, resource, accountId, repository);
    for (const extra of authorization.additionalActions ?? []) {
      if (extra.whenMember !== undefined && call.input[extra.whenMember] === undefined) continue;
      const extraResource = extra.resource === 'operation' ? resource : extra.resource === '*' ? '*' : String(call.input[extra.resource.member]);
      await authorizeOn(caller, request, extra.action, extraResource, accountId, extra.resource === 'operation' ? repository : undefined);
    }
  };

  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId);
    try {
      const [service, operation] = target(request.headers['x-amz-target']);
      requireJsonContentType(request.headers['content-type']);
      const { body, caller } = await signedCall(request, authorizer, { expectedService: service, bodyLimit: REQUEST_BODY_LIMITS.get(operation) });
      const model = MODELS[service];
      const handler: EcrHandler | undefined = Object.hasOwn(handlers[service] ?? {}, operation) ? handlers[service]?.[operation] : undefined;
      const authorization = OPERATIONS[service][operation];
      if (!model.operations[operation] || !authorization) throw AwsError.of('UNKNOWN_OPERATION', `Operation ${operation.slice(0, 100)} is not recognized.`);
      const validated = validateInput(model, operation, parseInput(body));
      if (!validated.ok) throw new AwsError(validated.error.type, validated.error.message, 400);
      if (!handler) throw AwsError.of('UNKNOWN_OPERATION', `${operation} is not implemented yet`);
      const call = buildCall(service, operation, validated.input, caller, request, await registryIdOf(service, operation, validated.input, caller));
      await authorizeOperation(call, authorization);
      const result = serializeOutput(model, operation, await handler(call));
      return await reply.code(200).header('Content-Type', 'application/x-amz-json-1.1').send(Buffer.from(JSON.stringify(result)));
    } catch (err) {
      const error = toAwsError(err);
      if (error.status >= 500) request.log.error({ err }, 'AWS API request failed');
      return reply
        .code(error.status)
        .headers({ 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': error.type })
        .send(Buffer.from(JSON.stringify(awsErrorBody(error.type, error.message, error.members))));
    }
  };
}

/** A repository named in a request; a name the model allowed but the registry's rules do not is InvalidParameterException. */
function repositoryAddress(registry: RepositoryAddress['registry'], name: string): RepositoryAddress {
  try {
    requireRepositoryName(name);
  } catch {
    throw AwsError.of('INVALID_PARAMETER', `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`);
  }
  return { registry, name, qualified: qualifiedName(registry, name) };
}

/** `arn:aws:ecr:<region>:<account>:repository/<name>` (or ECR Public's, without a region). */
function repositoryFromArn(service: AwsService, arn: unknown): RepositoryAddress {
  const match = typeof arn === 'string' ? /^arn:aws:(ecr|ecr-public):[a-z0-9-]*:(\d{12}):repository\/(.+)$/.exec(arn) : null;
  if (!match || match[1] !== service) throw AwsError.of('INVALID_PARAMETER', `Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be a repository ARN'`);
  return repositoryAddress({ accountId: match[2] as string, kind: service === 'ecr-public' ? 'public' : 'private' }, match[3] as string);
}

/** AWS JSON services answer every client fault with 400 (signature failures keep their own status). */
function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err.status >= 500 ? err : new AwsError(err.type, err.message, 400, err.members);
  if (isRegistryError(err)) {
    const entry = ERRORS[err.code];
    return new AwsError(entry.aws, err.message, entry.status >= 500 ? 500 : 400);
  }
  return AwsError.of('INTERNAL');
}

function target(header: string | string[] | undefined): [AwsService, string] {
  const value = Array.isArray(header) ? header[0] : header;
  const dot = value?.indexOf('.') ?? -1;
  const service = value && dot > 0 ? serviceForTarget(value.slice(0, dot)) : undefined;
  if (!value || !service) throw AwsError.of('UNKNOWN_OPERATION', `unknown X-Amz-Target: ${String(value).slice(0, 200)}`);
  return [service, value.slice(dot + 1)];
}

/** What the AWS SDKs and CLI send (`application/x-amz-json-1.1`), and the JSON types AWS's JSON services also take. */
const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0', 'application/json']);

/** A body of another type is no call of the JSON protocol: AWS's JSON services answer it as an unknown operation. */
function requireJsonContentType(header: string | undefined): void {
  const mediaType = header?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== undefined && JSON_MEDIA_TYPES.has(mediaType)) return;
  throw AwsError.of('UNKNOWN_OPERATION', `Content-Type ${JSON.stringify(header?.slice(0, 100) ?? null)} is not one of the AWS JSON protocol (application/x-amz-json-1.1)`);
}

function parseInput(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw AwsError.of('SERIALIZATION');
  }
}
