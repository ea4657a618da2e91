import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { awsErrorBody, ERRORS, isRegistryError } from '../errors.js';
import type { Caller } from '../iam/authorizer.js';
import { accessDeniedMessage, tryParsePolicy, type Policy } from '../iam/policy/index.js';
import { isAccountId, qualifiedName, type RegistryRef } from '../names.js';
import type { RepositoryPolicies } from '../registry/repository-policies.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import { AwsError, signedCall, type AwsApiOptions } from './aws-common.js';
import type { Addressing } from './addressing.js';
import { requestContext } from './request-context.js';
import { repositoryArn } from './v2-actions.js';

const TARGETS = {
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
  SpencerFrontendService: 'ecr-public',
} as const;
type Service = (typeof TARGETS)[keyof typeof TARGETS];

/** ECR's limit on repository and registry policy text. */
const MAX_POLICY_TEXT = 10_240;

export interface AwsJsonOptions extends AwsApiOptions {
  metadata: MetadataStore;
  addressing: Addressing;
  policies: RepositoryPolicies;
}

type Input = Record<string, unknown>;

interface Call {
  service: Service;
  input: Input;
  caller: Caller;
  request: FastifyRequest;
}

type Operation = (call: Call) => Promise<unknown>;

/**
 * ECR and ECR Public (AWS JSON 1.1), SigV4 signed and authorized by the
 * policy evaluator. This slice serves `GetAuthorizationToken`, repository
 * and registry policies and ECR Public's `DescribeRegistries`; the other
 * operations follow with the full control plane.
 */
export function awsJsonHandler(options: AwsJsonOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const { tokens, authorizer, metadata, addressing, policies, account } = options;

  /** Throws AccessDeniedException unless the caller may perform `action` on `resource`. */
  const allow = async (call: Call, action: string, resource: string, resourceAccountId: string, resourcePolicies: readonly Policy[] = []): Promise<void> => {
    const decision = await authorizer.authorize(call.caller, action, resource, resourceAccountId, requestContext(call.request), resourcePolicies);
    if (decision.decision !== 'Allow') {
      throw new AwsError('AccessDeniedException', accessDeniedMessage({ principal: call.caller.principal, action, resource }, decision), 400);
    }
  };

  /** The repository an ECR or ECR Public call names, after checking `action` on it. */
  const repositoryFor = async (call: Call, action: string): Promise<{ registry: RegistryRef; name: string; qualified: string; id: number; policy: string | null }> => {
    const registryId = optionalString(call.input, 'registryId') ?? call.caller.principal.accountId;
    if (!isAccountId(registryId)) throw invalidParameter(`Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''`);
    const name = requiredString(call.input, 'repositoryName');
    const registry: RegistryRef = { accountId: registryId, kind: call.service === 'ecr-public' ? 'public' : 'private' };
    const qualified = qualifiedName(registry, name);
    const resource = call.service === 'ecr-public' ? `arn:aws:ecr-public::${registryId}:repository/${name}` : repositoryArn(account.region, registryId, name);
    await allow(call, `${call.service}:${action}`, resource, registryId, await policies.forRepository(qualified));
    const repository = await metadata.getRepository(qualified);
    if (!repository) {
      throw AwsError.of('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
    }
    return { registry, name, qualified, id: repository.id, policy: repository.policy };
  };

  /** The caller's own registry, for registry-level operations (another account's is never reachable). */
  const ownRegistry = async (call: Call, action: string): Promise<string> => {
    const accountId = call.caller.principal.accountId;
    await allow(call, `${call.service}:${action}`, '*', accountId);
    return accountId;
  };

  const setRepositoryPolicy: Operation = async (call) => {
    const policyText = requiredString(call.input, 'policyText');
    const repository = await repositoryFor(call, 'SetRepositoryPolicy');
    validateResourcePolicy(policyText, 'repository');
    await metadata.setRepositoryPolicy(repository.id, policyText);
    policies.invalidate();
    return { registryId: repository.registry.accountId, repositoryName: repository.name, policyText };
  };

  const getRepositoryPolicy: Operation = async (call) => {
    const repository = await repositoryFor(call, 'GetRepositoryPolicy');
    if (repository.policy === null) throw policyNotFound(repository.name, repository.registry.accountId);
    return { registryId: repository.registry.accountId, repositoryName: repository.name, policyText: repository.policy };
  };

  const deleteRepositoryPolicy: Operation = async (call) => {
    const repository = await repositoryFor(call, 'DeleteRepositoryPolicy');
    if (repository.policy === null) throw policyNotFound(repository.name, repository.registry.accountId);
    await metadata.setRepositoryPolicy(repository.id, null);
    policies.invalidate();
    return { registryId: repository.registry.accountId, repositoryName: repository.name, policyText: repository.policy };
  };

  const operations: Record<Service, Record<string, Operation>> = {
    ecr: {
      GetAuthorizationToken: async (call) => getAuthorizationToken(call),
      SetRepositoryPolicy: setRepositoryPolicy,
      GetRepositoryPolicy: getRepositoryPolicy,
      DeleteRepositoryPolicy: deleteRepositoryPolicy,
      PutRegistryPolicy: async (call) => {
        const policyText = requiredString(call.input, 'policyText');
        const registryId = await ownRegistry(call, 'PutRegistryPolicy');
        validateResourcePolicy(policyText, 'registry');
        await metadata.setRegistryPolicy(registryId, policyText);
        policies.invalidate();
        return { registryId, policyText };
      },
      GetRegistryPolicy: async (call) => {
        const registryId = await ownRegistry(call, 'GetRegistryPolicy');
        const policyText = (await metadata.getAccount(registryId))?.registryPolicy;
        if (!policyText) throw AwsError.of('REGISTRY_POLICY_NOT_FOUND', `Registry policy does not exist in the registry with id '${registryId}'`);
        return { registryId, policyText };
      },
      DeleteRegistryPolicy: async (call) => {
        const registryId = await ownRegistry(call, 'DeleteRegistryPolicy');
        const policyText = (await metadata.getAccount(registryId))?.registryPolicy;
        if (!policyText) throw AwsError.of('REGISTRY_POLICY_NOT_FOUND', `Registry policy does not exist in the registry with id '${registryId}'`);
        await metadata.setRegistryPolicy(registryId, null);
        policies.invalidate();
        return { registryId, policyText };
      },
    },
    'ecr-public': {
      GetAuthorizationToken: async (call) => getAuthorizationToken(call),
      SetRepositoryPolicy: setRepositoryPolicy,
      GetRepositoryPolicy: getRepositoryPolicy,
      DeleteRepositoryPolicy: deleteRepositoryPolicy,
      DescribeRegistries: async (call) => {
        const registryId = await ownRegistry(call, 'DescribeRegistries');
        const alias = (await addressing.account(registryId))?.publicAlias ?? registryId;
        const host = call.request.headers.host ?? call.request.hostname;
        return {
          registries: [
            {
              registryId,
              registryArn: `arn:aws:ecr-public::${registryId}:registry/${registryId}`,
              registryUri: `${host}/public/${alias}`,
              verified: false,
              aliases: [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
            },
          ],
        };
      },
    },
  };

  async function getAuthorizationToken({ service, caller, request }: Call): Promise<unknown> {
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

  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId);
    try {
      const [service, operationName] = target(request.headers['x-amz-target']);
      const { body, caller } = await signedCall(request, authorizer, { expectedService: service });
      const operation = Object.hasOwn(operations[service], operationName) ? operations[service][operationName] : undefined;
      if (!operation) throw AwsError.of('UNKNOWN_OPERATION', `${operationName.slice(0, 100)} is not implemented yet`);
      const result = await operation({ service, input: parseInput(body), caller, request });
      return await reply.code(200).header('Content-Type', 'application/x-amz-json-1.1').send(Buffer.from(JSON.stringify(result)));
    } catch (err) {
      const error = toAwsError(err);
      if (error.status >= 500) request.log.error({ err }, 'AWS API request failed');
      return reply
        .code(error.status)
        .headers({ 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': error.type })
        .send(Buffer.from(JSON.stringify(awsErrorBody(error.type, error.message))));
    }
  };
}

/** AWS JSON services answer every client fault with 400 (signature failures keep their 403). */
function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err.status >= 500 || err.status === 403 ? err : new AwsError(err.type, err.message, 400);
  if (isRegistryError(err)) {
    const entry = ERRORS[err.code];
    return new AwsError(entry.aws, err.message, entry.status >= 500 ? 500 : 400);
  }
  return AwsError.of('INTERNAL');
}

function policyNotFound(name: string, registryId: string): AwsError {
  return AwsError.of('REPOSITORY_POLICY_NOT_FOUND', `Repository policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`);
}

function invalidParameter(message: string): AwsError {
  return AwsError.of('INVALID_PARAMETER', message);
}

/** Repository and registry policies are resource policies: checked in full when set, never stored when invalid. */
function validateResourcePolicy(policyText: string, kind: 'repository' | 'registry'): void {
  const parsed = tryParsePolicy(policyText, { kind: 'resource', maxLength: MAX_POLICY_TEXT });
  if (!parsed.ok) {
    throw invalidParameter(`Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${kind} policy provided': ${parsed.error.message}`);
  }
}

function requiredString(input: Input, member: string): string {
  const value = input[member];
  if (value === undefined || value === null) throw invalidParameter(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  if (typeof value !== 'string') throw AwsError.of('SERIALIZATION', `${member} must be a string`);
  return value;
}

function optionalString(input: Input, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw AwsError.of('SERIALIZATION', `${member} must be a string`);
  return value;
}

function target(header: string | string[] | undefined): [Service, string] {
  const value = Array.isArray(header) ? header[0] : header;
  const dot = value?.indexOf('.') ?? -1;
  const prefix = value?.slice(0, dot);
  const service = prefix !== undefined && Object.hasOwn(TARGETS, prefix) ? TARGETS[prefix as keyof typeof TARGETS] : undefined;
  if (!value || dot < 0 || !service) throw AwsError.of('UNKNOWN_OPERATION', `unknown X-Amz-Target: ${String(value).slice(0, 200)}`);
  return [service, value.slice(dot + 1)];
}

function parseInput(body: Buffer): Input {
  if (body.length === 0) return {};
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    throw AwsError.of('SERIALIZATION');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw AwsError.of('SERIALIZATION');
  return input as Input;
}
