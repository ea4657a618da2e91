/**
 * Policy-document validation errors, shaped like IAM's `MalformedPolicyDocumentException`
 * (`{ code: 'MalformedPolicyDocument', message }`). Messages reuse IAM's wording where it is known
 * (e.g. "Policy document should not specify a principal.", "Missing required field Effect",
 * "Statement IDs (SID) in a single policy must be unique."). Surfaces map the code to their own
 * exception (ECR reports InvalidParameterException "Invalid repository policy provided").
 */

export interface PolicyErrorShape {
  readonly code: 'MalformedPolicyDocument';
  readonly message: string;
}

export class PolicyError extends Error implements PolicyErrorShape {
  readonly code = 'MalformedPolicyDocument' as const;

  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }

  toJSON(): PolicyErrorShape {
    return { code: this.code, message: this.message };
  }
}
