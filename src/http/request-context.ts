import type { FastifyRequest } from 'fastify';

/** The global condition keys every surface knows about a request, for the policy evaluator. */
export function requestContext(request: FastifyRequest): Record<string, string> {
  return { 'aws:SecureTransport': request.protocol === 'https' ? 'true' : 'false', 'aws:SourceIp': request.ip };
}
