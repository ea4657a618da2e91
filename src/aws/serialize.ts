/**
 * Output serialization for the AWS JSON 1.1 protocol, driven by the
 * operation's output shape: timestamps become epoch seconds (fractions
 * allowed; the SDKs parse them with parseEpochTimestamp, so ISO strings
 * would break them), blobs become base64, absent and null members are
 * omitted, and members the model does not name are dropped, so internal
 * fields never leak into an answer.
 */
import type { ServiceModel } from './model-types.js';

export function toEpochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** The JSON body for `operationName`'s result; throws if the model has no such operation. */
export function serializeOutput(model: ServiceModel, operationName: string, output: object): Record<string, unknown> {
  const operation = model.operations[operationName];
  if (!operation) throw new RangeError(`${operationName} is not an operation of ${model.signingName}`);
  return serializeStructure(model, operation.output, output as Readonly<Record<string, unknown>>);
}

function serializeStructure(model: ServiceModel, shapeName: string, value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const shape = model.shapes[shapeName];
  if (shape?.type !== 'structure') throw new Error(`${model.signingName} shape ${shapeName} is not a structure`);
  const result: Record<string, unknown> = {};
  for (const [member, memberShape] of Object.entries(shape.members)) {
    const memberValue = value[member];
    if (memberValue !== undefined && memberValue !== null) result[member] = serializeValue(model, memberShape, memberValue);
  }
  return result;
}

function serializeValue(model: ServiceModel, shapeName: string, value: unknown): unknown {
  const shape = model.shapes[shapeName];
  switch (shape?.type) {
    case 'structure':
      return serializeStructure(model, shapeName, value as Readonly<Record<string, unknown>>);
    case 'list':
      return (value as readonly unknown[]).map((item) => serializeValue(model, shape.member, item));
    case 'map':
      return Object.fromEntries(Object.entries(value as Readonly<Record<string, unknown>>).map(([key, item]) => [key, serializeValue(model, shape.value, item)]));
    case 'timestamp':
      return value instanceof Date ? toEpochSeconds(value) : value;
    case 'blob':
      return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value;
    case undefined:
      throw new Error(`${model.signingName} model has no shape ${shapeName}`);
    default:
      return value;
  }
}
