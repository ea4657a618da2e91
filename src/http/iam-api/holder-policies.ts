import type { PolicyHolder } from '../../iam/identity-store.js';
import { getManagedPolicy } from '../../iam/policy/index.js';
import { AwsError } from '../aws-common.js';
import { allow, changed, documentXml, list, NAME, noSuchEntity, required, validDocument, x, type QueryCall, type QueryOperation } from './common.js';

/** What differs between users, groups and roles as holders of inline and attached policies. */
interface HolderKind {
  type: PolicyHolder['type'];
  /** `User`, `Group`, `Role`: in operation names and parameter names (`UserName`, …). */
  noun: 'User' | 'Group' | 'Role';
  maxNameLength: number;
  /** IAM's size limit for one inline policy of this holder, whitespace excluded. */
  maxInlinePolicyLength: number;
}

const HOLDER_KINDS: readonly HolderKind[] = [
  { type: 'user', noun: 'User', maxNameLength: 64, maxInlinePolicyLength: 2048 },
  { type: 'group', noun: 'Group', maxNameLength: 128, maxInlinePolicyLength: 5120 },
  { type: 'role', noun: 'Role', maxNameLength: 64, maxInlinePolicyLength: 10240 },
];

const POLICY_ARN = /^arn:aws:iam::(aws|\d{12}):policy\/(?:[^/]+\/)*([\w+=,.@-]+)$/;

/** The ARN of a user, group or role: the real one (with its path) when it exists, else the one it would have at `/`. */
export async function holderArn(call: QueryCall, holder: PolicyHolder): Promise<{ arn: string; exists: boolean }> {
  const { identities } = call.api;
  const found =
    holder.type === 'user'
      ? await identities.getUser(call.accountId, holder.name)
      : holder.type === 'group'
        ? await identities.getGroup(call.accountId, holder.name)
        : await identities.getRole(call.accountId, holder.name);
  return found ? { arn: found.arn, exists: true } : { arn: `arn:aws:iam::${call.accountId}:${holder.type}/${holder.name}`, exists: false };
}

export function noSuchHolder(holder: PolicyHolder): AwsError {
  return noSuchEntity(`The ${holder.type} with name ${holder.name} cannot be found.`);
}

/** Authorizes the call on the holder's ARN, then requires the holder to exist. */
export async function allowOnExistingHolder(call: QueryCall, holder: PolicyHolder, extraContext: Record<string, string> = {}): Promise<void> {
  const { arn, exists } = await holderArn(call, holder);
  await allow(call, arn, extraContext);
  if (!exists) throw noSuchHolder(holder);
}

/** A policy ARN Berth can attach: an AWS-managed ECR policy, or (checked by the store) a customer-managed policy of the account. */
export function attachablePolicyArn(call: QueryCall): string {
  const arn = required(call, 'PolicyArn', undefined, 2048);
  const match = POLICY_ARN.exec(arn);
  if (!match) throw new AwsError('InvalidInput', `ARN ${arn.slice(0, 200)} is not valid.`, 400);
  if (match[1] === 'aws' && !getManagedPolicy(arn)) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
  return arn;
}

/** The name IAM shows for an attached policy: the last part of its ARN. */
export function policyNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function operationsFor(kind: HolderKind): Record<string, QueryOperation> {
  const { noun } = kind;
  const holderOf = (call: QueryCall): PolicyHolder => ({ type: kind.type, name: required(call, `${noun}Name`, NAME, kind.maxNameLength) });
  const policyName = (call: QueryCall): string => required(call, 'PolicyName', NAME, 128);
  const noSuchPolicy = (name: string): AwsError => noSuchEntity(`The ${kind.type} policy with name ${name} cannot be found.`);

  return {
    async [`Put${noun}Policy`](call) {
      const holder = holderOf(call);
      const name = policyName(call);
      const document = required(call, 'PolicyDocument');
      await allowOnExistingHolder(call, holder);
      validDocument(document, { kind: 'identity', maxLength: kind.maxInlinePolicyLength, lengthExcludesWhitespace: true });
      await call.api.identities.putInlinePolicy(call.accountId, holder, { name, document });
      changed(call);
      return '';
    },
    async [`Get${noun}Policy`](call) {
      const holder = holderOf(call);
      const name = policyName(call);
      await allowOnExistingHolder(call, holder);
      const policy = await call.api.identities.getInlinePolicy(call.accountId, holder, name);
      if (!policy) throw noSuchPolicy(name);
      return `<${noun}Name>${x(holder.name)}</${noun}Name><PolicyName>${x(name)}</PolicyName><PolicyDocument>${documentXml(policy.document)}</PolicyDocument>`;
    },
    async [`List${noun}Policies`](call) {
      const holder = holderOf(call);
      await allowOnExistingHolder(call, holder);
      const policies = await call.api.identities.listInlinePolicies(call.accountId, holder);
      return list('PolicyNames', policies.map((p) => x(p.name)));
    },
    async [`Delete${noun}Policy`](call) {
      const holder = holderOf(call);
      const name = policyName(call);
      await allowOnExistingHolder(call, holder);
      if (!(await call.api.identities.deleteInlinePolicy(call.accountId, holder, name))) throw noSuchPolicy(name);
      changed(call);
      return '';
    },
    async [`Attach${noun}Policy`](call) {
      const holder = holderOf(call);
      const arn = attachablePolicyArn(call);
      await allowOnExistingHolder(call, holder, { 'iam:PolicyARN': arn });
      await call.api.identities.attachPolicy(call.accountId, holder, arn);
      changed(call);
      return '';
    },
    async [`Detach${noun}Policy`](call) {
      const holder = holderOf(call);
      const arn = required(call, 'PolicyArn', undefined, 2048);
      await allowOnExistingHolder(call, holder, { 'iam:PolicyARN': arn });
      if (!(await call.api.identities.detachPolicy(call.accountId, holder, arn))) throw noSuchEntity(`Policy ${arn} was not found.`);
      changed(call);
      return '';
    },
    async [`ListAttached${noun}Policies`](call) {
      const holder = holderOf(call);
      await allowOnExistingHolder(call, holder);
      const attached = await call.api.identities.listAttachedPolicies(call.accountId, holder);
      return list('AttachedPolicies', attached.map((arn) => `<PolicyName>${x(policyNameOf(arn))}</PolicyName><PolicyArn>${x(arn)}</PolicyArn>`));
    },
  };
}

/** Put/Get/List/Delete inline policies and Attach/Detach/ListAttached managed policies, for users, groups and roles. */
export const holderPolicyOperations: Record<string, QueryOperation> = Object.fromEntries(HOLDER_KINDS.flatMap((kind) => Object.entries(operationsFor(kind))));
