import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newAccessKeyId } from '../accounts/root-account.js';
import type { Caller } from '../iam/authorizer.js';
import { IdentityConflictError, NoSuchUserError, type AccessKey, type IamUser } from '../iam/identity-store.js';

import { accessDeniedMessage, getManagedPolicy, tryParsePolicy } from '../iam/policy/index.js';
import { AwsError, signedCall, type AwsApiOptions } from './aws-common.js';
import { requestContext } from './request-context.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
const MAX_ACCESS_KEYS_PER_USER = 2;
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const USER_PATH = /^(\/|\/[\u0021-\u007e]{0,510}\/)$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** IAM's limit for a user's inline policies, whitespace excluded. */
const MAX_INLINE_POLICY_LENGTH = 2048;

/** XML text: escapes the five XML specials. */
function x(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- XML 1.0 cannot carry these at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function members(items: string[]): string {
  return items.map((item) => `<member>${item}</member>`).join('');
}

function userXml(user: IamUser): string {
  return `<Path>${x(user.path)}</Path><UserName>${x(user.name)}</UserName><UserId>${x(user.userId)}</UserId><Arn>${x(user.arn)}</Arn><CreateDate>${isoDate(user.createdAt)}</CreateDate>`;
}

function keyMetadataXml(key: AccessKey): string {
  return `<UserName>${x(key.userName ?? '')}</UserName><AccessKeyId>${x(key.accessKeyId)}</AccessKeyId><Status>${key.status}</Status><CreateDate>${isoDate(key.createdAt)}</CreateDate>`;
}

/** `AIDA` + 17 characters, as IAM shapes user ids. */
function newUserId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `AIDA${Array.from(randomBytes(17), (b) => alphabet[b % 32]).join('')}`;
}

const noSuchUser = (name: string): AwsError => new AwsError('NoSuchEntity', `The user with name ${name} cannot be found.`, 404);

/**
 * The AWS Query protocol (form-encoded `Action=…&Version=…`, XML answers):
 * STS `GetCallerIdentity` and the IAM operations an operator needs for users,
 * access keys and user policies. Every call is SigV4 verified and authorized
 * by the policy evaluator (`iam:<Action>` on the user's ARN).
 */
export function awsQueryHandler({ authorizer, identities, serverKey }: AwsApiOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {

  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId).header('Content-Type', 'text/xml');
    let namespace = IAM_NAMESPACE;
    try {
      const { body, caller, service } = await signedCall(request, authorizer, { expectedService: ['sts', 'iam'], errorStyle: 'query' });
      const params = new URLSearchParams(body.toString('utf8'));
      const action = params.get('Action') ?? '';
      if (service === 'sts') namespace = STS_NAMESPACE;
      const result = service === 'sts' ? sts(action, caller) : await iam(action, params, caller, requestContext(request));
      return await reply
        .code(200)
        .send(`<${action}Response xmlns="${namespace}">${result === '' ? '' : `<${action}Result>${result}</${action}Result>`}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
    } catch (err) {
      const error =
        err instanceof AwsError ? err : err instanceof NoSuchUserError ? new AwsError('NoSuchEntity', err.message, 404) : new AwsError('ServiceFailure', 'internal error', 500);
      if (error.status >= 500) request.log.error({ err }, 'AWS Query API request failed');
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      return reply
        .code(error.status)
        .send(`<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${x(error.type)}</Code><Message>${x(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
  };

  function sts(action: string, caller: Caller): string {
    if (action !== 'GetCallerIdentity') throw new AwsError('InvalidAction', `Could not find operation ${action.slice(0, 100)}`, 400);
    const { principal } = caller;
    return `<Arn>${x(principal.arn)}</Arn><UserId>${x(principal.userId)}</UserId><Account>${x(principal.accountId)}</Account>`;
  }

  async function iam(action: string, params: URLSearchParams, caller: Caller, context: Record<string, string>): Promise<string> {
    const accountId = caller.principal.accountId;
    const required = (name: string, pattern?: RegExp): string => {
      const value = params.get(name);
      if (value === null || value === '') throw new AwsError('ValidationError', `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`, 400);
      if (pattern && !pattern.test(value)) throw new AwsError('ValidationError', `1 validation error detected: Value '${value.slice(0, 200)}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`, 400);
      return value;
    };
    const userArn = (name: string, path = '/'): string => `arn:aws:iam::${accountId}:user${path}${name}`;
    /** Authorizes on the user's real ARN (with its path) when the user exists. */
    const allowOnUser = async (name: string): Promise<void> => {
      const user = await identities.getUser(accountId, name);
      await allow(user ? user.arn : userArn(name));
    };
    const allow = async (resource: string): Promise<void> => {
      const decision = await authorizer.authorize(caller, `iam:${action}`, resource, accountId, context);
      if (decision.decision !== 'Allow') {
        throw new AwsError('AccessDenied', accessDeniedMessage({ principal: caller.principal, action: `iam:${action}`, resource }, decision), 403);
      }
    };
    const existingUser = async (name: string): Promise<IamUser> => {
      const user = await identities.getUser(accountId, name);
      if (!user) throw noSuchUser(name);
      return user;
    };
    /** A key's owner: the named user, or the caller itself when no user is named. */
    const keyOwner = (): string | undefined => params.get('UserName') || caller.principal.username;
    const changed = (): void => authorizer.invalidate();

    switch (action) {
      case 'CreateUser': {
        const name = required('UserName', USER_NAME);
        const path = params.get('Path') || '/';
        if (!USER_PATH.test(path)) throw new AwsError('ValidationError', `1 validation error detected: Value '${path.slice(0, 100)}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: ${USER_PATH.source}`, 400);
        if (params.has('PermissionsBoundary') || params.has('Tags.member.1.Key')) {
          throw new AwsError('ValidationError', 'Permissions boundaries and tags on users are not supported by this server.', 400);
        }
        await allow(userArn(name, path));
        const user: IamUser = { accountId, name, userId: newUserId(), path, arn: `arn:aws:iam::${accountId}:user${path}${name}`, createdAt: Date.now() };
        try {
          await identities.createUser(user);
        } catch (err) {
          if (err instanceof IdentityConflictError) throw new AwsError('EntityAlreadyExists', `User with name ${name} already exists.`, 409);
          throw err;
        }
        changed();
        return `<User>${userXml(user)}</User>`;
      }
      case 'GetUser': {
        const name = params.get('UserName') || caller.principal.username;
        if (!name) throw new AwsError('ValidationError', 'Must specify userName when calling with non-User credentials', 400);
        await allowOnUser(name);
        return `<User>${userXml(await existingUser(name))}</User>`;
      }
      case 'ListUsers': {
        await allow(`arn:aws:iam::${accountId}:user/`);
        const users = await identities.listUsers(accountId);
        return `<Users>${members(users.map(userXml))}</Users><IsTruncated>false</IsTruncated>`;
      }
      case 'DeleteUser': {
        const name = required('UserName', USER_NAME);
        await allowOnUser(name);
        await existingUser(name);
        const [keys, inline, attached] = await Promise.all([identities.listAccessKeys(accountId, name), identities.listUserPolicies(accountId, name), identities.listAttachedUserPolicies(accountId, name)]);
        if (keys.length + inline.length + attached.length > 0) {
          throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete access keys and policies first.', 409);
        }
        await identities.deleteUser(accountId, name);
        changed();
        return '';
      }
      case 'CreateAccessKey': {
        const owner = keyOwner();
        await (owner ? allowOnUser(owner) : allow(`arn:aws:iam::${accountId}:root`));
        if (owner) await existingUser(owner);
        if ((await identities.listAccessKeys(accountId, owner)).length >= MAX_ACCESS_KEYS_PER_USER) {
          throw new AwsError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS_PER_USER}`, 409);
        }
        const secretAccessKey = randomBytes(30).toString('base64').slice(0, 40);
        const key: AccessKey = { accessKeyId: newAccessKeyId(), accountId, userName: owner, sealedSecret: serverKey.encrypt(secretAccessKey), status: 'Active', createdAt: Date.now(), lastUsedAt: undefined };
        await identities.createAccessKey(key);
        changed();
        return `<AccessKey>${keyMetadataXml(key)}<SecretAccessKey>${x(secretAccessKey)}</SecretAccessKey></AccessKey>`;
      }
      case 'ListAccessKeys': {
        const owner = keyOwner();
        await (owner ? allowOnUser(owner) : allow(`arn:aws:iam::${accountId}:root`));
        if (owner) await existingUser(owner);
        const keys = await identities.listAccessKeys(accountId, owner);
        return `<AccessKeyMetadata>${members(keys.map(keyMetadataXml))}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`;
      }
      case 'UpdateAccessKey':
      case 'DeleteAccessKey': {
        const accessKeyId = required('AccessKeyId');
        const owner = keyOwner();
        await (owner ? allowOnUser(owner) : allow(`arn:aws:iam::${accountId}:root`));
        const key = await identities.getAccessKey(accessKeyId);
        if (!key || key.accountId !== accountId || key.userName !== owner) {
          throw new AwsError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`, 404);
        }
        if (action === 'DeleteAccessKey') {
          await identities.deleteAccessKey(accessKeyId);
        } else {
          const status = required('Status');
          if (status !== 'Active' && status !== 'Inactive') throw new AwsError('ValidationError', `Value '${status.slice(0, 50)}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`, 400);
          await identities.setAccessKeyStatus(accessKeyId, status);
        }
        changed();
        return '';
      }
      case 'PutUserPolicy': {
        const name = required('UserName', USER_NAME);
        const policyName = required('PolicyName', POLICY_NAME);
        const document = required('PolicyDocument');
        await allowOnUser(name);
        await existingUser(name);
        const parsed = tryParsePolicy(document, { kind: 'identity', maxLength: MAX_INLINE_POLICY_LENGTH, lengthExcludesWhitespace: true });
        if (!parsed.ok) throw new AwsError('MalformedPolicyDocument', parsed.error.message, 400);
        await identities.putUserPolicy(accountId, name, { name: policyName, document });
        changed();
        return '';
      }
      case 'GetUserPolicy': {
        const name = required('UserName', USER_NAME);
        const policyName = required('PolicyName', POLICY_NAME);
        await allowOnUser(name);
        const policy = await identities.getUserPolicy(accountId, name, policyName);
        if (!policy) throw new AwsError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`, 404);
        // IAM answers the document URL-encoded; the SDKs and the CLI decode it.
        return `<UserName>${x(name)}</UserName><PolicyName>${x(policyName)}</PolicyName><PolicyDocument>${x(encodeURIComponent(policy.document))}</PolicyDocument>`;
      }
      case 'ListUserPolicies': {
        const name = required('UserName', USER_NAME);
        await allowOnUser(name);
        await existingUser(name);
        const policies = await identities.listUserPolicies(accountId, name);
        return `<PolicyNames>${members(policies.map((p) => x(p.name)))}</PolicyNames><IsTruncated>false</IsTruncated>`;
      }
      case 'DeleteUserPolicy': {
        const name = required('UserName', USER_NAME);
        const policyName = required('PolicyName', POLICY_NAME);
        await allowOnUser(name);
        if (!(await identities.deleteUserPolicy(accountId, name, policyName))) {
          throw new AwsError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`, 404);
        }
        changed();
        return '';
      }
      case 'AttachUserPolicy':
      case 'DetachUserPolicy': {
        const name = required('UserName', USER_NAME);
        const policyArn = required('PolicyArn');
        await allowOnUser(name);
        await existingUser(name);
        if (!getManagedPolicy(policyArn)) throw new AwsError('NoSuchEntity', `Policy ${policyArn} does not exist or is not attachable.`, 404);
        if (action === 'AttachUserPolicy') await identities.attachUserPolicy(accountId, name, policyArn);
        else if (!(await identities.detachUserPolicy(accountId, name, policyArn))) throw new AwsError('NoSuchEntity', `Policy ${policyArn} was not found.`, 404);
        changed();
        return '';
      }
      case 'ListAttachedUserPolicies': {
        const name = required('UserName', USER_NAME);
        await allowOnUser(name);
        await existingUser(name);
        const attached = await identities.listAttachedUserPolicies(accountId, name);
        const items = attached.map((arn) => `<PolicyName>${x(getManagedPolicy(arn)?.name ?? arn.split('/').at(-1) ?? arn)}</PolicyName><PolicyArn>${x(arn)}</PolicyArn>`);
        return `<AttachedPolicies>${members(items)}</AttachedPolicies><IsTruncated>false</IsTruncated>`;
      }
      default:
        throw new AwsError('InvalidAction', `Could not find operation ${action.slice(0, 100)} for version ${params.get('Version') ?? ''}`, 400);
    }
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
