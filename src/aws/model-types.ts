/**
 * The shape of the service models in src/aws/models/, which
 * scripts/generate-aws-models.py writes from botocore's service-2.json.
 * Only what validation, serialization and dispatch need is kept: no
 * documentation, no HTTP bindings (every JSON 1.1 operation is `POST /`).
 */

export interface StringShape {
  type: 'string';
  min?: number;
  max?: number;
  /** Java regular expression, as in the model; the whole value must match. */
  pattern?: string;
  enum?: readonly string[];
}

export interface NumberShape {
  type: 'integer' | 'long' | 'double';
  min?: number;
  max?: number;
}

export interface BooleanShape {
  type: 'boolean';
}

export interface TimestampShape {
  type: 'timestamp';
}

export interface BlobShape {
  type: 'blob';
  /** Bounds on the decoded byte length. */
  min?: number;
  max?: number;
}

export interface ListShape {
  type: 'list';
  member: string;
  min?: number;
  max?: number;
}

export interface MapShape {
  type: 'map';
  key: string;
  value: string;
  min?: number;
  max?: number;
}

export interface StructureShape {
  type: 'structure';
  /** Member name → shape name, in model order. */
  members: Readonly<Record<string, string>>;
  required?: readonly string[];
  /** Set on the modeled exceptions. */
  exception?: true;
  /** Set on exceptions that are the service's fault (HTTP 500). */
  fault?: true;
}

export type Shape =
  | StringShape
  | NumberShape
  | BooleanShape
  | TimestampShape
  | BlobShape
  | ListShape
  | MapShape
  | StructureShape;

export interface OperationPagination {
  /** Page size the service uses when the request gives no maxResults. */
  defaultMaxResults: number;
  /** Output members that hold the page's items, from paginators-1.json when the operation is listed there. */
  resultKeys?: readonly string[];
}

export interface OperationModel {
  input: string;
  output: string;
  errors: readonly string[];
  /** Present on operations that take nextToken and maxResults. */
  pagination?: OperationPagination;
}

export interface ServiceModel {
  /** The SigV4 signing name and IAM action prefix: `ecr` or `ecr-public`. */
  signingName: string;
  /** The X-Amz-Target prefix before `.<Operation>`. */
  targetPrefix: string;
  apiVersion: string;
  operations: Readonly<Record<string, OperationModel>>;
  shapes: Readonly<Record<string, Shape>>;
}
