/**
 * The one table of errors every surface uses. Each entry names the OCI
 * Distribution error code (for `/v2/`), the AWS exception name (for the JSON
 * control plane) and the HTTP status each protocol expects.
 */
export const ERRORS = {
  BLOB_UNKNOWN: { oci: 'BLOB_UNKNOWN', aws: 'LayersNotFoundException', status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { oci: 'BLOB_UPLOAD_INVALID', aws: 'InvalidLayerPartException', status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { oci: 'BLOB_UPLOAD_UNKNOWN', aws: 'UploadNotFoundException', status: 404, message: 'blob upload unknown to registry' },
  RANGE_INVALID: { oci: 'BLOB_UPLOAD_INVALID', aws: 'InvalidLayerPartException', status: 416, message: 'requested range not satisfiable' },
  DIGEST_INVALID: { oci: 'DIGEST_INVALID', aws: 'InvalidLayerException', status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { oci: 'MANIFEST_BLOB_UNKNOWN', aws: 'LayersNotFoundException', status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { oci: 'MANIFEST_INVALID', aws: 'InvalidParameterException', status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { oci: 'MANIFEST_UNKNOWN', aws: 'ImageNotFoundException', status: 404, message: 'manifest unknown to registry' },
  MANIFEST_TOO_BIG: { oci: 'SIZE_INVALID', aws: 'InvalidParameterException', status: 413, message: 'manifest exceeds the 4 MiB limit' },
  TAG_IMMUTABLE: { oci: 'TAG_INVALID', aws: 'ImageTagAlreadyExistsException', status: 400, message: 'the tag is immutable' },
  NAME_INVALID: { oci: 'NAME_INVALID', aws: 'InvalidParameterException', status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { oci: 'NAME_UNKNOWN', aws: 'RepositoryNotFoundException', status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { oci: 'SIZE_INVALID', aws: 'InvalidParameterException', status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { oci: 'UNAUTHORIZED', aws: 'UnrecognizedClientException', status: 401, message: 'authentication required' },
  DENIED: { oci: 'DENIED', aws: 'AccessDeniedException', status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { oci: 'UNSUPPORTED', aws: 'UnsupportedCommandException', status: 405, message: 'the operation is unsupported' },
  TOO_MANY_REQUESTS: { oci: 'TOOMANYREQUESTS', aws: 'ThrottlingException', status: 429, message: 'too many requests' },
  PAGINATION_INVALID: { oci: 'PAGINATION_NUMBER_INVALID', aws: 'InvalidParameterException', status: 400, message: 'invalid number of results requested' },
  REPOSITORY_POLICY_NOT_FOUND: { oci: 'NAME_UNKNOWN', aws: 'RepositoryPolicyNotFoundException', status: 404, message: 'repository policy does not exist' },
  REGISTRY_POLICY_NOT_FOUND: { oci: 'NAME_UNKNOWN', aws: 'RegistryPolicyNotFoundException', status: 404, message: 'registry policy does not exist' },
  INVALID_PARAMETER: { oci: 'UNSUPPORTED', aws: 'InvalidParameterException', status: 400, message: 'invalid parameter' },
  UNKNOWN_OPERATION: { oci: 'UNSUPPORTED', aws: 'UnknownOperationException', status: 400, message: 'the operation is not known' },
  SERIALIZATION: { oci: 'UNSUPPORTED', aws: 'SerializationException', status: 400, message: 'the request body is not a JSON object' },
  INTERNAL: { oci: 'UNKNOWN', aws: 'ServerException', status: 500, message: 'internal server error' },
} as const satisfies Record<string, { oci: string; aws: string; status: number; message: string }>;

export type ErrorName = keyof typeof ERRORS;

/** An error any layer may throw; surfaces render it in their protocol's format. */
export class RegistryError extends Error {
  readonly code: ErrorName;
  readonly detail: unknown;
  /** Extra response headers the error needs (e.g. `Range` on a 416 for an out-of-order chunk). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorName, message?: string, detail?: unknown, headers: Record<string, string> = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}

/**
 * Members an AWS exception carries besides `message`, as its shape in the
 * model names them (InvalidLayerPartException's `registryId`,
 * `repositoryName`, `uploadId` and `lastValidByteReceived`); the SDKs set
 * them on the exception object.
 */
export type AwsErrorMembers = Readonly<Record<string, string | number>>;

/** The AWS JSON-protocol error: `__type`, `message` and the exception's other members in the body, `x-amzn-ErrorType` in the headers. */
export function awsErrorBody(type: string, message: string, members: AwsErrorMembers = {}): Record<string, string | number> {
  return { ...members, __type: type, message };
}

/** The OCI error body: `{"errors":[{"code","message","detail"}]}`. */
export function ociErrorBody(err: RegistryError): { errors: { code: string; message: string; detail?: unknown }[] } {
  const entry: { code: string; message: string; detail?: unknown } = { code: ERRORS[err.code].oci, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  return { errors: [entry] };
}
