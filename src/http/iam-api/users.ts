import { newAccessKeyId } from '../../accounts/root-account.js';
import { IdentityConflictError, type AccessKey, type IamUser } from '../../iam/identity-store.js';
import { AwsError } from '../aws-common.js';
import {
  allow,
  changed,
  isoDate,
  list,
  NAME,
  newSecretAccessKey,
  newUniqueId,
  noSuchEntity,
  optional,
  PATH,
  refuseUnsupported,
  required,
  validationError,
  x,
  type QueryCall,
  type QueryOperation,
} from './common.js';
import { allowOnExistingHolder } from './holder-policies.js';

const MAX_ACCESS_KEYS_PER_USER = 2;
const PATH_PREFIX = /^\/[\u0021-\u007f]*$/;

export function userXml(user: IamUser): string {
  return `<Path>${x(user.path)}</Path><UserName>${x(user.name)}</UserName><UserId>${x(user.userId)}</UserId><Arn>${x(user.arn)}</Arn><CreateDate>${isoDate(user.createdAt)}</CreateDate>`;
}

function keyMetadataXml(key: AccessKey): string {
  return `<UserName>${x(key.userName ?? '')}</UserName><AccessKeyId>${x(key.accessKeyId)}</AccessKeyId><Status>${key.status}</Status><CreateDate>${isoDate(key.createdAt)}</CreateDate>`;
}

/** `PathPrefix` of the List operations: everything by default. */
export function pathPrefix(call: QueryCall): string {
  return optional(call, 'PathPrefix', PATH_PREFIX, 512) ?? '/';
}

function userName(call: QueryCall): string {
  return required(call, 'UserName', NAME, 64);
}

/** A key's owner: the named user, or the calling user or account root (undefined) when no user is named. */
function keyOwner(call: QueryCall): string | undefined {
  const named = optional(call, 'UserName', NAME, 64);
  if (named !== undefined) return named;
  const { principal } = call.caller;
  if (principal.type === 'User') return principal.username;
  if (principal.type === 'Account') return undefined;
  throw new AwsError('ValidationError', 'Must specify userName when calling with non-User credentials', 400);
}

/** Authorizes a key operation on its owner (the user, or the account root) and requires the user to exist. */
async function allowOnKeyOwner(call: QueryCall, owner: string | undefined): Promise<void> {
  if (owner === undefined) await allow(call, `arn:aws:iam::${call.accountId}:root`);
  else await allowOnExistingHolder(call, { type: 'user', name: owner });
}

/** IAM users and their access keys. */
export const userOperations: Record<string, QueryOperation> = {
  async CreateUser(call) {
    const name = userName(call);
    const path = optional(call, 'Path', PATH, 512) ?? '/';
    refuseUnsupported(call, ['PermissionsBoundary', 'Tags']);
    const arn = `arn:aws:iam::${call.accountId}:user${path}${name}`;
    await allow(call, arn);
    const user: IamUser = { accountId: call.accountId, name, userId: newUniqueId('AIDA'), path, arn, createdAt: Date.now() };
    try {
      await call.api.identities.createUser(user);
    } catch (err) {
      if (err instanceof IdentityConflictError) throw new AwsError('EntityAlreadyExists', `User with name ${name} already exists.`, 409);
      throw err;
    }
    changed(call);
    return `<User>${userXml(user)}</User>`;
  },

  async GetUser(call) {
    const name = optional(call, 'UserName', NAME, 64) ?? call.caller.principal.username;
    if (!name) throw new AwsError('ValidationError', 'Must specify userName when calling with non-User credentials', 400);
    await allowOnExistingHolder(call, { type: 'user', name });
    const user = await call.api.identities.getUser(call.accountId, name);
    if (!user) throw noSuchEntity(`The user with name ${name} cannot be found.`);
    return `<User>${userXml(user)}</User>`;
  },

  async ListUsers(call) {
    const prefix = pathPrefix(call);
    await allow(call, `arn:aws:iam::${call.accountId}:user/`);
    const users = await call.api.identities.listUsers(call.accountId);
    return list('Users', users.filter((u) => u.path.startsWith(prefix)).map(userXml));
  },

  async DeleteUser(call) {
    const name = userName(call);
    await allowOnExistingHolder(call, { type: 'user', name });
    const { identities } = call.api;
    const holder = { type: 'user', name } as const;
    const [keys, inline, attached] = await Promise.all([
      identities.listAccessKeys(call.accountId, name),
      identities.listInlinePolicies(call.accountId, holder),
      identities.listAttachedPolicies(call.accountId, holder),
    ]);
    if (keys.length + inline.length + attached.length > 0) {
      throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete access keys and policies first.', 409);
    }
    // The store refuses (DeleteConflict) while the user is in a group.
    await identities.deleteUser(call.accountId, name);
    changed(call);
    return '';
  },

  async CreateAccessKey(call) {
    const owner = keyOwner(call);
    await allowOnKeyOwner(call, owner);
    const secretAccessKey = newSecretAccessKey();
    const key: AccessKey = {
      accessKeyId: newAccessKeyId(),
      accountId: call.accountId,
      userName: owner,
      sealedSecret: call.api.serverKey.encrypt(secretAccessKey),
      status: 'Active',
      createdAt: Date.now(),
      lastUsedAt: undefined,
    };
    // The store counts and inserts in one serialized transaction, so concurrent calls cannot pass the limit.
    await call.api.identities.createAccessKey(key, MAX_ACCESS_KEYS_PER_USER);
    changed(call);
    return `<AccessKey>${keyMetadataXml(key)}<SecretAccessKey>${x(secretAccessKey)}</SecretAccessKey></AccessKey>`;
  },

  async ListAccessKeys(call) {
    const owner = keyOwner(call);
    await allowOnKeyOwner(call, owner);
    const keys = await call.api.identities.listAccessKeys(call.accountId, owner);
    return list('AccessKeyMetadata', keys.map(keyMetadataXml));
  },

  async UpdateAccessKey(call) {
    const key = await ownKey(call);
    const status = required(call, 'Status');
    if (status !== 'Active' && status !== 'Inactive') throw validationError('Status', status, 'Member must satisfy enum value set: [Active, Inactive]');
    await call.api.identities.setAccessKeyStatus(key.accessKeyId, status);
    changed(call);
    return '';
  },

  async DeleteAccessKey(call) {
    const key = await ownKey(call);
    await call.api.identities.deleteAccessKey(key.accessKeyId);
    changed(call);
    return '';
  },

  async GetAccessKeyLastUsed(call) {
    const accessKeyId = required(call, 'AccessKeyId', /^\w+$/, 128);
    const key = await call.api.identities.getAccessKey(accessKeyId);
    if (!key || key.accountId !== call.accountId) throw noSuchKey(accessKeyId);
    await allowOnKeyOwner(call, key.userName);
    const lastUse = await call.api.identities.getAccessKeyLastUse(accessKeyId);
    const used = lastUse
      ? `<LastUsedDate>${isoDate(lastUse.usedAt)}</LastUsedDate><ServiceName>${x(lastUse.service)}</ServiceName><Region>${x(lastUse.region)}</Region>`
      : '<ServiceName>N/A</ServiceName><Region>N/A</Region>';
    return `${key.userName === undefined ? '' : `<UserName>${x(key.userName)}</UserName>`}<AccessKeyLastUsed>${used}</AccessKeyLastUsed>`;
  },
};

function noSuchKey(accessKeyId: string): AwsError {
  return noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`);
}

/** The key named by `AccessKeyId`, which must belong to the key owner of the call (UpdateAccessKey, DeleteAccessKey). */
async function ownKey(call: QueryCall): Promise<AccessKey> {
  const accessKeyId = required(call, 'AccessKeyId');
  const owner = keyOwner(call);
  await allowOnKeyOwner(call, owner);
  const key = await call.api.identities.getAccessKey(accessKeyId);
  if (!key || key.accountId !== call.accountId || key.userName !== owner) throw noSuchKey(accessKeyId);
  return key;
}
