import type { IamRole } from '../../iam/identity-store.js';
import type { ParseOptions } from '../../iam/policy/index.js';
import {
  allow,
  changed,
  documentXml,
  isoDate,
  list,
  NAME,
  newUniqueId,
  optional,
  optionalInteger,
  PATH,
  refuseUnsupported,
  required,
  validDocument,
  x,
  type QueryCall,
  type QueryOperation,
} from './common.js';
import { allowOnExistingHolder, noSuchHolder } from './holder-policies.js';
import { pathPrefix } from './users.js';

export const DEFAULT_MAX_SESSION_DURATION = 3600;
const DESCRIPTION = /^[\t\n\r\u0020-\u007e\u00a1-\u00ff]*$/;

/**
 * A trust policy is a resource policy on the role: every statement names a
 * Principal, none a Resource (IAM: "Has prohibited field Resource"); IAM's
 * default quota for its size is 2,048 characters without whitespace.
 */
export const TRUST_POLICY: ParseOptions = { kind: 'resource', resourceElement: 'forbidden', maxLength: 2048, lengthExcludesWhitespace: true };

function roleXml(role: IamRole): string {
  return (
    `<Path>${x(role.path)}</Path><RoleName>${x(role.name)}</RoleName><RoleId>${x(role.roleId)}</RoleId><Arn>${x(role.arn)}</Arn>` +
    `<CreateDate>${isoDate(role.createdAt)}</CreateDate><AssumeRolePolicyDocument>${documentXml(role.assumeRolePolicy)}</AssumeRolePolicyDocument>` +
    `${role.description === undefined ? '' : `<Description>${x(role.description)}</Description>`}<MaxSessionDuration>${role.maxSessionDuration}</MaxSessionDuration>`
  );
}

function roleName(call: QueryCall): string {
  return required(call, 'RoleName', NAME, 64);
}

/** IAM roles and their trust policies (their permission policies: holder-policies.ts; assuming them: sts.ts). */
export const roleOperations: Record<string, QueryOperation> = {
  async CreateRole(call) {
    const name = roleName(call);
    const path = optional(call, 'Path', PATH, 512) ?? '/';
    const trust = required(call, 'AssumeRolePolicyDocument');
    const description = optional(call, 'Description', DESCRIPTION, 1000);
    const maxSessionDuration = optionalInteger(call, 'MaxSessionDuration', 3600, 43200) ?? DEFAULT_MAX_SESSION_DURATION;
    refuseUnsupported(call, ['PermissionsBoundary', 'Tags']);
    const arn = `arn:aws:iam::${call.accountId}:role${path}${name}`;
    await allow(call, arn);
    validDocument(trust, TRUST_POLICY);
    const role: IamRole = { accountId: call.accountId, name, roleId: newUniqueId('AROA'), path, arn, assumeRolePolicy: trust, description, maxSessionDuration, createdAt: Date.now() };
    await call.api.identities.createRole(role);
    changed(call);
    return `<Role>${roleXml(role)}</Role>`;
  },

  async GetRole(call) {
    const name = roleName(call);
    await allowOnExistingHolder(call, { type: 'role', name });
    const role = await call.api.identities.getRole(call.accountId, name);
    if (!role) throw noSuchHolder({ type: 'role', name });
    return `<Role>${roleXml(role)}</Role>`;
  },

  async ListRoles(call) {
    const prefix = pathPrefix(call);
    await allow(call, `arn:aws:iam::${call.accountId}:role/`);
    const roles = await call.api.identities.listRoles(call.accountId);
    return list('Roles', roles.filter((r) => r.path.startsWith(prefix)).map(roleXml));
  },

  async DeleteRole(call) {
    const name = roleName(call);
    await allowOnExistingHolder(call, { type: 'role', name });
    // DeleteConflict from the store while the role has policies; its sessions end with it.
    if (!(await call.api.identities.deleteRole(call.accountId, name))) throw noSuchHolder({ type: 'role', name });
    changed(call);
    return '';
  },

  async UpdateAssumeRolePolicy(call) {
    const name = roleName(call);
    const trust = required(call, 'PolicyDocument');
    await allowOnExistingHolder(call, { type: 'role', name });
    validDocument(trust, TRUST_POLICY);
    if (!(await call.api.identities.updateAssumeRolePolicy(call.accountId, name, trust))) throw noSuchHolder({ type: 'role', name });
    changed(call);
    return '';
  },
};
