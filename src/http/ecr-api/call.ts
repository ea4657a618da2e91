import type { FastifyRequest } from 'fastify';
import type { RootAccount } from '../../accounts/root-account.js';
import type { ServerKey } from '../../accounts/server-key.js';
import type { RegistryTokens } from '../../auth/registry-token.js';
import type { AwsService } from '../../aws/operations.js';
import type { ValidatedInput } from '../../aws/validate.js';
import type { Authorizer, Caller } from '../../iam/authorizer.js';
import type { Registry } from '../../registry/registry.js';
import type { RepositoryPolicies } from '../../registry/repository-policies.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import type { RegistrySettingsStore } from '../../storage/registry-settings-store.js';
import type { Addressing, RepositoryAddress } from '../addressing.js';

/** What every ECR / ECR Public operation handler is given. */
export interface EcrCall {
  service: AwsService;
  operation: string;
  /** The request body, validated against the operation's input shape (src/aws/validate.ts). */
  input: ValidatedInput;
  caller: Caller;
  request: FastifyRequest;
  /** The registry the call addresses: `registryId` when given, else the caller's account. */
  registryId: string;
  /**
   * For operations on one repository: the repository named, whose action the
   * dispatcher has already authorized (it need not exist).
   */
  repository: RepositoryAddress | undefined;
  /** Checks one more action (e.g. per repository when listing); throws AccessDeniedException. */
  authorize(action: string, target: { repository: RepositoryAddress } | { resource: string; accountId: string }): Promise<void>;
  /** Whether the caller may perform `action` on `repository` (for filtering lists). */
  allowed(action: string, repository: RepositoryAddress): Promise<boolean>;
  /** The ARN of a repository as this service names it. */
  repositoryArn(repository: RepositoryAddress): string;
}

/** An operation: validated input in, a plain object out (serialized by the dispatcher against the output shape). */
export type EcrHandler = (call: EcrCall) => Promise<Readonly<Record<string, unknown>>>;

/** Handlers by operation name, one table per service. */
export type EcrHandlers = Partial<Record<AwsService, Readonly<Record<string, EcrHandler>>>>;

/** What the handler modules are built from. */
export interface EcrApiDeps {
  registry: Registry;
  metadata: MetadataStore;
  registrySettings: RegistrySettingsStore;
  addressing: Addressing;
  policies: RepositoryPolicies;
  authorizer: Authorizer;
  tokens: RegistryTokens;
  account: RootAccount;
  serverKey: ServerKey;
  /** The registry listener's port when the AWS APIs have a listener of their own (src/http/addressing.ts registryHost). */
  registryPort: number | undefined;
}
