/**
 * Request validation against a service model (src/aws/models/), in two
 * passes as the AWS service framework does: the JSON is first read against
 * the shapes (a wrong JSON type is a SerializationException), then every
 * member is checked against its constraints (InvalidParameterException).
 * Members the model does not name are dropped, as AWS ignores them.
 *
 * ECR reports the first violation only, worded
 *   Invalid parameter at '<path>' failed to satisfy constraint: '<constraint>'
 * with the generated framework's constraint texts ("Member must ..."). The
 * wording comes from messages real ECR returned, quoted in public issues;
 * docs/aws-models.md lists them.
 */
import { javaPatternToRegExp } from './java-pattern.js';
import type { BlobShape, ListShape, MapShape, NumberShape, ServiceModel, Shape, StringShape, StructureShape } from './model-types.js';

export type ValidationErrorType = 'InvalidParameterException' | 'SerializationException';

export interface ValidationError {
  type: ValidationErrorType;
  message: string;
}

/**
 * The request as the model reads it: only modeled members, JSON nulls
 * dropped, timestamps as Date, blobs as Buffer (decoded from base64), and
 * everything else as parsed.
 */
export type ValidatedInput = Readonly<Record<string, unknown>>;

export type ValidationResult<Input = ValidatedInput> = { ok: true; input: Input } | { ok: false; error: ValidationError };

/** Validates the parsed JSON body of `operationName`; throws if the model has no such operation. */
export function validateInput(model: ServiceModel, operationName: string, input: unknown): ValidationResult {
  const operation = model.operations[operationName];
  if (!operation) throw new RangeError(`${operationName} is not an operation of ${model.signingName}`);
  let deserialized: Record<string, unknown>;
  try {
    deserialized = readStructure(model, structureShape(model, operation.input), input);
  } catch (error) {
    if (error instanceof SerializationFailure) return { ok: false, error: { type: 'SerializationException', message: error.message } };
    throw error;
  }
  const violation = structureViolation(model, structureShape(model, operation.input), deserialized, '');
  if (violation) {
    return {
      ok: false,
      error: { type: 'InvalidParameterException', message: `Invalid parameter at '${violation.path}' failed to satisfy constraint: '${violation.constraint}'` },
    };
  }
  return { ok: true, input: deserialized };
}

// ---------------------------------------------------------------------------
// Pass 1: JSON types
// ---------------------------------------------------------------------------

class SerializationFailure extends Error {}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
// A flat character class with no groups: layer parts run to 20 MiB, too long for a backtracking pattern.
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

function read(model: ServiceModel, shapeName: string, value: unknown): unknown {
  const shape = shapeOf(model, shapeName);
  switch (shape.type) {
    case 'structure':
      return readStructure(model, shape, value);
    case 'list':
      if (!Array.isArray(value)) throw typeMismatch(value, 'a List');
      return value.map((item: unknown) => (item === null ? null : read(model, shape.member, item)));
    case 'map':
      return Object.fromEntries(
        Object.entries(expectObject(value, 'a Map')).map(([key, item]) => [key, item === null ? null : read(model, shape.value, item)]),
      );
    case 'string':
      if (typeof value !== 'string') throw typeMismatch(value, 'a String');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw typeMismatch(value, 'a Boolean');
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) throw typeMismatch(value, 'an Integer');
      return value;
    case 'long':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw typeMismatch(value, 'a Long');
      return value;
    case 'double':
      if (typeof value !== 'number') throw typeMismatch(value, 'a Double');
      return value;
    case 'timestamp':
      // JSON 1.1 sends timestamps as epoch seconds, fractions allowed.
      if (typeof value !== 'number') throw typeMismatch(value, 'a Date');
      return new Date(value * 1000);
    case 'blob':
      if (typeof value !== 'string') throw typeMismatch(value, 'a ByteBuffer');
      if (value.length % 4 !== 0 || !BASE64_ALPHABET.test(value)) throw new SerializationFailure('Base64 encoded value could not be decoded');
      return Buffer.from(value, 'base64');
  }
}

function readStructure(model: ServiceModel, shape: StructureShape, value: unknown): Record<string, unknown> {
  const object = expectObject(value, 'a Structure');
  const result: Record<string, unknown> = {};
  for (const [member, memberShape] of Object.entries(shape.members)) {
    const memberValue = Object.hasOwn(object, member) ? object[member] : undefined;
    if (memberValue === undefined || memberValue === null) continue;
    result[member] = read(model, memberShape, memberValue);
  }
  return result;
}

function expectObject(value: unknown, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw typeMismatch(value, expected);
  return value as Record<string, unknown>;
}

/** Worded like the service framework's JSON reader, which names the JSON token it met. */
function typeMismatch(value: unknown, expected: string): SerializationFailure {
  if (Array.isArray(value)) return new SerializationFailure('Start of list found where not expected');
  if (typeof value === 'object' && value !== null) return new SerializationFailure('Start of structure or map found where not expected.');
  const token = typeof value === 'string' ? 'STRING_VALUE' : typeof value === 'number' ? 'NUMBER_VALUE' : 'BOOLEAN_VALUE';
  return new SerializationFailure(`${token} can not be converted to ${expected}`);
}

// ---------------------------------------------------------------------------
// Pass 2: constraints
// ---------------------------------------------------------------------------

interface Violation {
  path: string;
  constraint: string;
}

const NOT_NULL = 'Member must not be null';

/**
 * Shapes ECR validates by hand before its generated validation, reported at
 * the named parameter (even for an element of DescribeRepositories'
 * repositoryNames) with wording of their own, e.g.
 * `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'`.
 */
const SERVICE_CHECKED_SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ecr: { RepositoryName: 'repositoryName' },
};

function structureViolation(model: ServiceModel, shape: StructureShape, value: Record<string, unknown>, path: string): Violation | undefined {
  for (const [member, memberShape] of Object.entries(shape.members)) {
    const memberPath = path === '' ? member : `${path}.${member}`;
    const memberValue = value[member];
    if (memberValue === undefined) {
      if (shape.required?.includes(member)) return { path: memberPath, constraint: NOT_NULL };
      continue;
    }
    const violation = memberViolation(model, memberShape, memberValue, memberPath);
    if (violation) return violation;
  }
  return undefined;
}

function memberViolation(model: ServiceModel, shapeName: string, value: unknown, path: string): Violation | undefined {
  const shape = shapeOf(model, shapeName);
  switch (shape.type) {
    case 'structure':
      return structureViolation(model, shape, value as Record<string, unknown>, path);
    case 'list':
      return listViolation(model, shape, value as readonly unknown[], path);
    case 'map':
      return mapViolation(model, shape, value as Record<string, unknown>, path);
    default: {
      const serviceParameter = SERVICE_CHECKED_SHAPES[model.signingName]?.[shapeName];
      if (serviceParameter !== undefined && shape.type === 'string') {
        const constraint = serviceCheckedStringViolation(shape, value as string);
        return constraint === undefined ? undefined : { path: serviceParameter, constraint };
      }
      const [constraint] = scalarViolations(shape, value);
      return constraint === undefined ? undefined : { path, constraint };
    }
  }
}

/**
 * Elements: a scalar's violations are reported at the list, all of them in
 * one bracketed constraint; a structure's at `<list>.<1-based index>.member`.
 */
function listViolation(model: ServiceModel, shape: ListShape, value: readonly unknown[], path: string): Violation | undefined {
  const [ownConstraint] = sizeViolations(shape, value.length, 'length');
  if (ownConstraint !== undefined) return { path, constraint: ownConstraint };
  for (const [index, item] of value.entries()) {
    const violation = elementViolation(model, shape.member, item, path, `${path}.${index + 1}.member`, 'Member must satisfy constraint');
    if (violation) return violation;
  }
  return undefined;
}

function mapViolation(model: ServiceModel, shape: MapShape, value: Record<string, unknown>, path: string): Violation | undefined {
  const [ownConstraint] = sizeViolations(shape, Object.keys(value).length, 'length');
  if (ownConstraint !== undefined) return { path, constraint: ownConstraint };
  const keyShape = shapeOf(model, shape.key);
  for (const [key, item] of Object.entries(value)) {
    const keyConstraints = scalarViolations(keyShape, key);
    if (keyConstraints.length > 0) return { path, constraint: `Map keys must satisfy constraint: [${keyConstraints.join(', ')}]` };
    const violation = elementViolation(model, shape.value, item, path, `${path}.${key}.member`, 'Map value must satisfy constraint');
    if (violation) return violation;
  }
  return undefined;
}

function elementViolation(model: ServiceModel, shapeName: string, item: unknown, containerPath: string, elementPath: string, lead: string): Violation | undefined {
  const shape = shapeOf(model, shapeName);
  const composite = shape.type === 'structure' || shape.type === 'list' || shape.type === 'map';
  if (item === null) return composite ? { path: elementPath, constraint: NOT_NULL } : { path: containerPath, constraint: `${lead}: [${NOT_NULL}]` };
  if (composite || SERVICE_CHECKED_SHAPES[model.signingName]?.[shapeName] !== undefined) return memberViolation(model, shapeName, item, elementPath);
  const constraints = scalarViolations(shape, item);
  return constraints.length === 0 ? undefined : { path: containerPath, constraint: `${lead}: [${constraints.join(', ')}]` };
}

/** Every constraint a scalar value violates, in the order the framework checks them. */
function scalarViolations(shape: Shape, value: unknown): string[] {
  switch (shape.type) {
    case 'string':
      return stringViolations(shape, value as string);
    case 'integer':
    case 'long':
    case 'double':
      return sizeViolations(shape, value as number, 'value');
    case 'blob':
      return sizeViolations(shape, (value as Buffer).length, 'length');
    default:
      return [];
  }
}

function stringViolations(shape: StringShape, value: string): string[] {
  const violations = sizeViolations(shape, value.length, 'length');
  if (shape.pattern !== undefined && !javaPatternToRegExp(shape.pattern).test(value)) {
    violations.push(`Member must satisfy regular expression pattern: ${shape.pattern}`);
  }
  if (shape.enum !== undefined && !shape.enum.includes(value)) {
    violations.push(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
  }
  return violations;
}

function sizeViolations(shape: StringShape | NumberShape | BlobShape | ListShape | MapShape, size: number, measure: 'length' | 'value'): string[] {
  const violations: string[] = [];
  if (shape.min !== undefined && size < shape.min) violations.push(`Member must have ${measure} greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && size > shape.max) violations.push(`Member must have ${measure} less than or equal to ${shape.max}`);
  return violations;
}

function serviceCheckedStringViolation(shape: StringShape, value: string): string | undefined {
  if (shape.min !== undefined && value.length < shape.min) return `must have length greater than or equal to ${shape.min}`;
  if (shape.max !== undefined && value.length > shape.max) return `must have length less than or equal to ${shape.max}`;
  if (shape.pattern !== undefined && !javaPatternToRegExp(shape.pattern).test(value)) return `must satisfy regular expression '${shape.pattern}'`;
  return undefined;
}

// ---------------------------------------------------------------------------

function shapeOf(model: ServiceModel, shapeName: string): Shape {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`${model.signingName} model has no shape ${shapeName}`);
  return shape;
}

function structureShape(model: ServiceModel, shapeName: string): StructureShape {
  const shape = shapeOf(model, shapeName);
  if (shape.type !== 'structure') throw new Error(`${model.signingName} shape ${shapeName} is not a structure`);
  return shape;
}
