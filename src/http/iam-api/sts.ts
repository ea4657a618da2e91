import { randomBytes } from 'node:crypto';
import { roleSessionPrincipal } from '../../iam/authorizer.js';
import { tryParsePolicy } from '../../iam/policy/index.js';
import { AwsError } from '../aws-common.js';
import { isoDate, newSecretAccessKey, newUniqueId, optional, optionalInteger, refuseUnsupported, required, x, type QueryOperation } from './common.js';
import { TRUST_POLICY } from './roles.js';

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[^/]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const DEFAULT_DURATION_SECONDS = 3600;
/** AWS limits a session that assumes another role ("role chaining") to one hour. */
const ROLE_CHAINING_MAX_SECONDS = 3600;

/** STS: who the caller is, and temporary credentials for a role. */
export const stsOperations: Record<string, QueryOperation> = {
  async GetCallerIdentity(call) {
    const { principal } = call.caller;
    return `<Arn>${x(principal.arn)}</Arn><UserId>${x(principal.userId)}</UserId><Account>${x(principal.accountId)}</Account>`;
  },

  /**
   * The role's trust policy must allow the caller: naming it suffices in the
   * role's account; naming its account delegates to its identity policies,
   * which must then allow `sts:AssumeRole` on the role; from another account
   * both must allow (Authorizer.authorizeAssumeRole).
   */
  async AssumeRole(call) {
    const roleArn = required(call, 'RoleArn', undefined, 2048);
    const sessionName = required(call, 'RoleSessionName', SESSION_NAME);
    const requestedSeconds = optionalInteger(call, 'DurationSeconds', 900, 43200);
    const externalId = optional(call, 'ExternalId', EXTERNAL_ID);
    refuseUnsupported(call, ['Policy', 'PolicyArns', 'Tags', 'TransitiveTagKeys', 'SerialNumber', 'TokenCode', 'SourceIdentity', 'ProvidedContexts']);
    const match = ROLE_ARN.exec(roleArn);
    if (!match) throw new AwsError('ValidationError', `${roleArn.slice(0, 200)} is invalid`, 400);
    const [, roleAccountId = '', roleName = ''] = match;
    const { caller } = call;
    const denied = (): AwsError => new AwsError('AccessDenied', `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    if (caller.principal.type === 'Account') throw new AwsError('AccessDenied', 'Roles may not be assumed by root accounts.', 403);

    const role = await call.api.identities.getRole(roleAccountId, roleName);
    // A role that does not exist (or not under that path) is denied like one that does not trust the caller.
    if (!role || role.arn !== roleArn) throw denied();
    const trust = tryParsePolicy(role.assumeRolePolicy, { ...TRUST_POLICY, name: `${role.arn} trust policy` });
    if (!trust.ok) throw denied();
    const context = externalId === undefined ? call.context : { ...call.context, 'sts:ExternalId': externalId };
    const decision = await call.api.authorizer.authorizeAssumeRole(caller, role, context, trust.policy);
    if (decision.decision !== 'Allow') throw denied();

    const maxSeconds = caller.principal.type === 'AssumedRole' ? Math.min(ROLE_CHAINING_MAX_SECONDS, role.maxSessionDuration) : role.maxSessionDuration;
    const durationSeconds = requestedSeconds ?? DEFAULT_DURATION_SECONDS;
    if (durationSeconds > maxSeconds) {
      throw new AwsError(
        'ValidationError',
        caller.principal.type === 'AssumedRole'
          ? `The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.`
          : `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        400,
      );
    }

    const now = Date.now();
    const accessKeyId = newUniqueId('ASIA', 16);
    const secretAccessKey = newSecretAccessKey();
    const sessionToken = randomBytes(192).toString('base64');
    const expiresAt = now + durationSeconds * 1000;
    const { serverKey, identities } = call.api;
    await identities.createRoleSession({
      accessKeyId,
      accountId: role.accountId,
      roleName: role.name,
      sessionName,
      sealedSecret: serverKey.encrypt(secretAccessKey),
      sealedToken: serverKey.encrypt(sessionToken),
      expiresAt,
      createdAt: now,
    });
    const session = roleSessionPrincipal(role, sessionName);
    return (
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${x(secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${x(sessionToken)}</SessionToken><Expiration>${isoDate(expiresAt)}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>${x(session.userId)}</AssumedRoleId><Arn>${x(session.arn)}</Arn></AssumedRoleUser>` +
      `<PackedPolicySize>0</PackedPolicySize>`
    );
  },
};
