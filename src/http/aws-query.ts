import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifySigV4 } from '../iam/sigv4/index.js';
import { AwsError, readBody, rootKeyLookup, type AwsApiOptions, type Caller } from './aws-common.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/**
 * The AWS Query protocol (form-encoded `Action=…&Version=…`, XML answers)
 * that STS and IAM speak. This first slice serves STS `GetCallerIdentity`.
 */
export function awsQueryHandler({ account }: AwsApiOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const lookup = rootKeyLookup(account);
  return async (request, reply) => {
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId).header('Content-Type', 'text/xml');
    try {
      const body = await readBody(request);
      const verified = await verifySigV4<Caller>(
        { method: request.method, path: request.url, headers: request.headers as Record<string, string | string[]>, body },
        lookup,
        { now: new Date(), expectedService: ['sts', 'iam'], errorStyle: 'query' },
      );
      if (!verified.ok) throw new AwsError(verified.error.code, verified.error.message, verified.error.status);
      const params = new URLSearchParams(body.toString('utf8'));
      const action = params.get('Action') ?? '';
      if (verified.service === 'sts' && action === 'GetCallerIdentity') {
        const arn = verified.credentials.principal.arn;
        return await reply.code(200).send(
          `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}"><GetCallerIdentityResult>` +
            `<Arn>${xmlEscape(arn)}</Arn><UserId>${xmlEscape(account.accountId)}</UserId><Account>${xmlEscape(account.accountId)}</Account>` +
            `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
      }
      throw new AwsError('InvalidAction', `Could not find operation ${action.slice(0, 100)} for version ${params.get('Version') ?? ''}`.trim(), 400);
    } catch (err) {
      const error = err instanceof AwsError ? err : new AwsError('InternalFailure', 'internal error', 500);
      if (!(err instanceof AwsError)) request.log.error({ err }, 'AWS Query API request failed');
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      return reply
        .code(error.status)
        .send(
          `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${type}</Type><Code>${xmlEscape(error.type)}</Code>` +
            `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
    }
  };
}
