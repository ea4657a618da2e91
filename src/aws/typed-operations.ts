/**
 * The generated operation types (models/*-types.ts) joined to the runtime
 * models, so that a handler table is typed per operation: its input as
 * validation returns it, its output as serialization takes it.
 */
import type { EcrPublicOperations } from './models/ecr-public-types.js';
import type { EcrOperations } from './models/ecr-types.js';
import { MODELS, type AwsService } from './operations.js';
import { validateInput, type ValidationResult } from './validate.js';

export interface OperationTypes {
  ecr: EcrOperations;
  'ecr-public': EcrPublicOperations;
}

export type OperationName<Service extends AwsService> = keyof OperationTypes[Service] & string;

export type OperationInput<Service extends AwsService, Operation extends OperationName<Service>> = OperationTypes[Service][Operation] extends { input: infer Input } ? Input : never;

export type OperationOutput<Service extends AwsService, Operation extends OperationName<Service>> = OperationTypes[Service][Operation] extends { output: infer Output } ? Output : never;

/** One handler per operation of a service, each typed by its own input and output. */
export type OperationHandlers<Service extends AwsService, Context> = {
  [Operation in OperationName<Service>]: (input: OperationInput<Service, Operation>, context: Context) => Promise<OperationOutput<Service, Operation>>;
};

export function isOperationName<Service extends AwsService>(service: Service, name: string): name is OperationName<Service> {
  return Object.hasOwn(MODELS[service].operations, name);
}

/** validateInput with the operation's generated input type; the types are generated from the same model the validation walks. */
export function validateOperationInput<Service extends AwsService, Operation extends OperationName<Service>>(
  service: Service,
  operation: Operation,
  body: unknown,
): ValidationResult<OperationInput<Service, Operation>> {
  return validateInput(MODELS[service], operation, body) as ValidationResult<OperationInput<Service, Operation>>;
}
