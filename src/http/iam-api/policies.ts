import type { CustomerPolicy, PolicyVersion } from '../../iam/identity-store.js';
import { AWS_MANAGED_ECR_POLICIES, getManagedPolicy, type ManagedPolicy, type ParseOptions } from '../../iam/policy/index.js';
import { AwsError } from '../aws-common.js';
import {
  allow,
  changed,
  documentXml,
  isoDate,
  list,
  members,
  NAME,
  newUniqueId,
  noSuchEntity,
  optional,
  optionalBoolean,
  POLICY_PATH,
  refuseUnsupported,
  required,
  stableUniqueId,
  validationError,
  validDocument,
  x,
  type QueryCall,
  type QueryOperation,
} from './common.js';

const MAX_POLICY_VERSIONS = 5;
const ENTITY_FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];
const VERSION_ID = /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/;
/** IAM's limit for a managed policy, whitespace excluded. */
const MANAGED_POLICY: ParseOptions = { kind: 'identity', maxLength: 6144, lengthExcludesWhitespace: true };
/** The AWS-managed policies exist in no table: they show this as their creation and update date (ECR's launch). */
const AWS_MANAGED_DATE = Date.UTC(2015, 11, 21);

/** What GetPolicy and ListPolicies show, for a customer-managed or an AWS-managed policy. */
interface PolicyView {
  name: string;
  policyId: string;
  arn: string;
  path: string;
  defaultVersionId: string;
  attachmentCount: number;
  description: string | undefined;
  createdAt: number;
  updatedAt: number;
}

function policyXml(policy: PolicyView): string {
  return (
    `<PolicyName>${x(policy.name)}</PolicyName><PolicyId>${x(policy.policyId)}</PolicyId><Arn>${x(policy.arn)}</Arn><Path>${x(policy.path)}</Path>` +
    `<DefaultVersionId>${x(policy.defaultVersionId)}</DefaultVersionId><AttachmentCount>${policy.attachmentCount}</AttachmentCount>` +
    `<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>` +
    `${policy.description === undefined ? '' : `<Description>${x(policy.description)}</Description>`}` +
    `<CreateDate>${isoDate(policy.createdAt)}</CreateDate><UpdateDate>${isoDate(policy.updatedAt)}</UpdateDate>`
  );
}

function versionXml(version: PolicyVersion, withDocument: boolean): string {
  return (
    `${withDocument ? `<Document>${documentXml(version.document)}</Document>` : ''}<VersionId>${x(version.versionId)}</VersionId>` +
    `<IsDefaultVersion>${version.isDefault}</IsDefaultVersion><CreateDate>${isoDate(version.createdAt)}</CreateDate>`
  );
}

async function awsManagedView(call: QueryCall, policy: ManagedPolicy): Promise<PolicyView> {
  return {
    name: policy.name,
    policyId: stableUniqueId('ANPA', policy.arn),
    arn: policy.arn,
    path: '/',
    defaultVersionId: policy.versionId,
    attachmentCount: await call.api.identities.countPolicyAttachments(call.accountId, policy.arn),
    description: policy.description,
    createdAt: AWS_MANAGED_DATE,
    updatedAt: AWS_MANAGED_DATE,
  };
}

function awsManagedVersion(policy: ManagedPolicy): PolicyVersion {
  return { versionId: policy.versionId, document: JSON.stringify(policy.document), isDefault: true, createdAt: AWS_MANAGED_DATE };
}

function policyArn(call: QueryCall): string {
  const arn = required(call, 'PolicyArn', undefined, 2048);
  if (!arn.startsWith('arn:aws:iam::') || !arn.includes(':policy/')) throw new AwsError('InvalidInput', `ARN ${arn.slice(0, 200)} is not valid.`, 400);
  return arn;
}

function versionId(call: QueryCall): string {
  return required(call, 'VersionId', VERSION_ID);
}

function noSuchPolicy(arn: string): AwsError {
  return noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
}

/** The account's customer-managed policy with that ARN (AWS-managed ones cannot be changed). */
async function customerPolicy(call: QueryCall, arn: string): Promise<CustomerPolicy> {
  if (getManagedPolicy(arn)) throw new AwsError('InvalidInput', `Policy ${arn} is managed by AWS and cannot be changed.`, 400);
  const policy = await call.api.identities.getPolicy(arn);
  if (!policy || policy.accountId !== call.accountId) throw noSuchPolicy(arn);
  return policy;
}

/** Customer-managed policies and their versions, and read access to the AWS-managed ECR policies. */
export const policyOperations: Record<string, QueryOperation> = {
  async CreatePolicy(call) {
    const name = required(call, 'PolicyName', NAME, 128);
    const path = optional(call, 'Path', POLICY_PATH, 512) ?? '/';
    const document = required(call, 'PolicyDocument');
    const description = optional(call, 'Description', undefined, 1000);
    refuseUnsupported(call, ['Tags']);
    const arn = `arn:aws:iam::${call.accountId}:policy${path}${name}`;
    await allow(call, arn);
    validDocument(document, MANAGED_POLICY);
    const now = Date.now();
    const policy = await call.api.identities.createPolicy({ accountId: call.accountId, name, policyId: newUniqueId('ANPA'), path, arn, description, createdAt: now, updatedAt: now }, document);
    changed(call);
    return `<Policy>${policyXml(policy)}</Policy>`;
  },

  async GetPolicy(call) {
    const arn = policyArn(call);
    await allow(call, arn);
    const managed = getManagedPolicy(arn);
    if (managed) return `<Policy>${policyXml(await awsManagedView(call, managed))}</Policy>`;
    const policy = await call.api.identities.getPolicy(arn);
    if (!policy || policy.accountId !== call.accountId) throw noSuchPolicy(arn);
    return `<Policy>${policyXml(policy)}</Policy>`;
  },

  async ListPolicies(call) {
    const scope = optional(call, 'Scope') ?? 'All';
    if (scope !== 'All' && scope !== 'AWS' && scope !== 'Local') throw validationError('Scope', scope, 'Member must satisfy enum value set: [All, AWS, Local]');
    const onlyAttached = optionalBoolean(call, 'OnlyAttached') ?? false;
    const prefix = optional(call, 'PathPrefix', POLICY_PATH, 512) ?? '/';
    refuseUnsupported(call, ['PolicyUsageFilter']);
    await allow(call, `arn:aws:iam::${call.accountId}:policy/`);
    const views: PolicyView[] = [];
    if (scope !== 'Local') views.push(...(await Promise.all([...AWS_MANAGED_ECR_POLICIES.values()].map((p) => awsManagedView(call, p)))));
    if (scope !== 'AWS') views.push(...(await call.api.identities.listPolicies(call.accountId)));
    const shown = views.filter((p) => p.path.startsWith(prefix) && (!onlyAttached || p.attachmentCount > 0));
    return list('Policies', shown.map(policyXml));
  },

  async DeletePolicy(call) {
    const arn = policyArn(call);
    await allow(call, arn);
    const policy = await customerPolicy(call, arn);
    // DeleteConflict from the store while attached or with versions besides the default.
    if (!(await call.api.identities.deletePolicy(policy.arn))) throw noSuchPolicy(policy.arn);
    changed(call);
    return '';
  },

  async ListEntitiesForPolicy(call) {
    const arn = policyArn(call);
    const filter = optional(call, 'EntityFilter');
    if (filter !== undefined && !ENTITY_FILTERS.includes(filter)) throw validationError('EntityFilter', filter, `Member must satisfy enum value set: [${ENTITY_FILTERS.join(', ')}]`);
    refuseUnsupported(call, ['PathPrefix', 'PolicyUsageFilter']);
    await allow(call, arn);
    const managed = getManagedPolicy(arn);
    if (!managed) await customerPolicy(call, arn);
    // A filter names a kind of entity, or the kind of policy whose entities to show.
    const shows = (kind: 'User' | 'Group' | 'Role'): boolean => filter === undefined || filter === kind || filter === (managed ? 'AWSManagedPolicy' : 'LocalManagedPolicy');
    const { users, groups, roles } = await call.api.identities.listEntitiesForPolicy(call.accountId, arn);
    return (
      `<PolicyGroups>${members(shows('Group') ? groups.map((g) => `<GroupName>${x(g.name)}</GroupName><GroupId>${x(g.groupId)}</GroupId>`) : [])}</PolicyGroups>` +
      `<PolicyUsers>${members(shows('User') ? users.map((u) => `<UserName>${x(u.name)}</UserName><UserId>${x(u.userId)}</UserId>`) : [])}</PolicyUsers>` +
      `<PolicyRoles>${members(shows('Role') ? roles.map((r) => `<RoleName>${x(r.name)}</RoleName><RoleId>${x(r.roleId)}</RoleId>`) : [])}</PolicyRoles>` +
      '<IsTruncated>false</IsTruncated>'
    );
  },

  async CreatePolicyVersion(call) {
    const arn = policyArn(call);
    const document = required(call, 'PolicyDocument');
    const setAsDefault = optionalBoolean(call, 'SetAsDefault') ?? false;
    await allow(call, arn);
    await customerPolicy(call, arn);
    validDocument(document, MANAGED_POLICY);
    const version = await call.api.identities.createPolicyVersion(arn, document, setAsDefault, Date.now(), MAX_POLICY_VERSIONS);
    changed(call);
    return `<PolicyVersion>${versionXml(version, false)}</PolicyVersion>`;
  },

  async GetPolicyVersion(call) {
    const arn = policyArn(call);
    const id = versionId(call);
    await allow(call, arn);
    const managed = getManagedPolicy(arn);
    let version: PolicyVersion | undefined;
    if (managed) {
      version = awsManagedVersion(managed);
    } else {
      await customerPolicy(call, arn);
      version = await call.api.identities.getPolicyVersion(arn, id);
    }
    if (!version || version.versionId !== id) throw noSuchEntity(`Policy ${arn} version ${id} does not exist or is not attachable.`);
    return `<PolicyVersion>${versionXml(version, true)}</PolicyVersion>`;
  },

  async ListPolicyVersions(call) {
    const arn = policyArn(call);
    await allow(call, arn);
    const managed = getManagedPolicy(arn);
    let versions: PolicyVersion[];
    if (managed) {
      versions = [awsManagedVersion(managed)];
    } else {
      await customerPolicy(call, arn);
      versions = await call.api.identities.listPolicyVersions(arn);
    }
    return list('Versions', versions.map((v) => versionXml(v, false)));
  },

  async DeletePolicyVersion(call) {
    const arn = policyArn(call);
    const id = versionId(call);
    await allow(call, arn);
    await customerPolicy(call, arn);
    // DeleteConflict from the store for the default version.
    if (!(await call.api.identities.deletePolicyVersion(arn, id))) throw noSuchEntity(`Policy ${arn} version ${id} does not exist.`);
    changed(call);
    return '';
  },

  async SetDefaultPolicyVersion(call) {
    const arn = policyArn(call);
    const id = versionId(call);
    await allow(call, arn);
    await customerPolicy(call, arn);
    if (!(await call.api.identities.setDefaultPolicyVersion(arn, id, Date.now()))) throw noSuchEntity(`Policy ${arn} version ${id} does not exist.`);
    changed(call);
    return '';
  },
};
