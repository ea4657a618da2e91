import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AwsError, signedCall, type AwsApiOptions } from './aws-common.js';
import { storeErrorAsAws, x, type QueryCall, type QueryOperation } from './iam-api/common.js';
import { groupOperations } from './iam-api/groups.js';
import { holderPolicyOperations } from './iam-api/holder-policies.js';
import { policyOperations } from './iam-api/policies.js';
import { roleOperations } from './iam-api/roles.js';
import { stsOperations } from './iam-api/sts.js';
import { userOperations } from './iam-api/users.js';
import { requestContext } from './request-context.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

const OPERATIONS: Readonly<Record<'iam' | 'sts', Readonly<Record<string, QueryOperation>>>> = {
  iam: { ...userOperations, ...groupOperations, ...roleOperations, ...policyOperations, ...holderPolicyOperations },
  sts: stsOperations,
};

/**
 * The AWS Query protocol (`Action=…&Version=…`, XML answers) of STS and IAM
 * (operations in `./iam-api/`): parameters form-encoded in the body of a
 * `POST /`, or in the URL of a `GET /`. Every call is SigV4 verified, signed in
 * the Authorization header or, as a presigned URL, in the query string; IAM
 * calls act in the caller's account and are authorized by the policy
 * evaluator (`iam:<Action>` on the entity's ARN).
 */
export function awsQueryHandler(api: AwsApiOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId).header('Content-Type', 'text/xml');
    // From the credential scope before it is verified, so that a refused call too answers in its service's namespace.
    const namespace = signedForService(request) === 'sts' ? STS_NAMESPACE : IAM_NAMESPACE;
    try {
      const { body, caller, service, region } = await signedCall(request, api.authorizer, { expectedService: ['sts', 'iam'], errorStyle: 'query' });
      const params = queryParameters(request, body);
      const action = params.get('Action') ?? '';
      const surface = service === 'sts' ? 'sts' : 'iam';
      const operation = Object.hasOwn(OPERATIONS[surface], action) ? OPERATIONS[surface][action] : undefined;
      if (!operation) throw new AwsError('InvalidAction', `Could not find operation ${action.slice(0, 100)} for version ${(params.get('Version') ?? '').slice(0, 20)}`, 400);
      const call: QueryCall = { action, params, caller, accountId: caller.principal.accountId, region, context: requestContext(request), api };
      const result = await operation(call);
      return await reply
        .code(200)
        .send(`<${action}Response xmlns="${namespace}">${result === '' ? '' : `<${action}Result>${result}</${action}Result>`}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
    } catch (err) {
      const error = err instanceof AwsError ? err : (storeErrorAsAws(err) ?? new AwsError('ServiceFailure', 'internal error', 500));
      if (error.status >= 500) request.log.error({ err }, 'AWS Query API request failed');
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      return reply
        .code(error.status)
        .send(`<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${x(error.type)}</Code><Message>${x(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
  };
}

/** A GET carries its parameters in the URL (a presigned URL among them), a POST in its form-encoded body. */
function queryParameters(request: FastifyRequest, body: Buffer): URLSearchParams {
  return request.method === 'GET' ? urlQuery(request) : new URLSearchParams(body.toString('utf8'));
}

function urlQuery(request: FastifyRequest): URLSearchParams {
  const queryStart = request.url.indexOf('?');
  return new URLSearchParams(queryStart === -1 ? '' : request.url.slice(queryStart + 1));
}

/** The service named by the request's credential scope (`<key>/<date>/<region>/<service>/aws4_request`), in the Authorization header or a presigned query. */
function signedForService(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  const scope = typeof authorization === 'string' ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : urlQuery(request).get('X-Amz-Credential');
  return scope?.split('/')[3];
}
