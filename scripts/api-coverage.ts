/**
 * Writes docs/api-coverage.md: every ECR and ECR Public operation of the
 * botocore models, whether Berth implements it (and where its answer is
 * honest-empty because the feature behind it comes later), the test files
 * that drive it through the AWS SDK (found by the SDK command name), and for
 * each exception its model lists, the tests that drive that exception
 * through the SDK or why Berth never raises it.
 *
 * Usage: node --import tsx scripts/api-coverage.ts
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS, type AwsService } from '../src/aws/operations.js';

/** Operations whose answer is truthful but empty or fixed until a later feature exists. */
const HONEST_EMPTY: Partial<Record<AwsService, Record<string, string>>> = {
  ecr: {
    StartImageScan: 'scanning is a later feature: the scan status is FAILED, saying so',
    DescribeImageScanFindings: 'ScanNotFoundException: no scan has run',
    DescribeImageReplicationStatus: 'replication is a later feature: no statuses',
    DescribeImageSigningStatus: 'signing is a later feature: no statuses',
    ValidatePullThroughCacheRule: 'Berth does not contact upstream registries: isValid false, with the reason',
    PutReplicationConfiguration: 'stored and validated; nothing replicates yet',
    PutRegistryScanningConfiguration: 'stored and validated; nothing scans yet',
    CreatePullThroughCacheRule: 'stored and validated; nothing pulls through yet',
    PutSigningConfiguration: 'stored and validated; nothing signs yet',
  },
};

/** Exceptions Berth raises from no operation, and why. */
const NEVER_RAISED: Readonly<Record<string, string>> = {
  ServerException: 'raised only for an unexpected internal failure (HTTP 500); one dispatcher turns any such failure into it, tested once by injecting a failure into CreateRepository',
  ValidationException: 'ECR answers constraint violations with InvalidParameterException (docs/aws-models.md)',
  KmsException: 'Berth uses no AWS KMS',
  UnableToGetUpstreamImageException: 'Berth contacts no upstream registry',
  UnableToGetUpstreamLayerException: 'Berth contacts no upstream registry',
  UnableToListUpstreamImageReferrersException: 'Berth contacts no upstream registry',
  UnableToAccessSecretException: 'Berth reads no Secrets Manager secret',
  SecretNotFoundException: 'Berth reads no Secrets Manager secret',
  UnableToDecryptSecretValueException: 'Berth reads no Secrets Manager secret',
  BlockedByOrganizationPolicyException: 'Berth has no AWS Organizations',
  LayerPartTooSmallException: 'layer parts are appended to one file, so Berth sets no minimum part size',
  LifecyclePolicyPreviewInProgressException: 'a preview is complete when StartLifecyclePolicyPreview answers',
  ImageStorageClassUpdateNotSupportedException: 'every image can be archived and restored (no bytes move)',
  RepositoryCatalogDataNotFoundException: 'every public repository has catalog data, empty until put',
  UnsupportedCommandException: 'Berth serves ECR Public in its one Region',
};

/** Exceptions Berth does not raise from one operation (`service operation exception`), and why. */
const NOT_RAISED_BY: Readonly<Record<string, string>> = {
  'ecr BatchGetImage LimitExceededException': 'no pull-rate quota',
  'ecr CreateRepository LimitExceededException': 'no repository quota',
  'ecr-public CreateRepository LimitExceededException': 'no repository quota',
  'ecr CreateRepositoryCreationTemplate LimitExceededException': 'no template quota',
  'ecr DeregisterPullTimeUpdateExclusion LimitExceededException': 'no quota applies',
  'ecr ListPullTimeUpdateExclusions LimitExceededException': 'no quota applies',
  'ecr PutAccountSetting LimitExceededException': 'no quota applies',
  'ecr StartImageScan LimitExceededException': 'no scan starts, so the daily scan quota never applies',
  'ecr UntagResource TooManyTagsException': 'removing tags cannot exceed the limit',
  'ecr-public UntagResource TooManyTagsException': 'removing tags cannot exceed the limit',
  'ecr BatchGetRepositoryScanningConfiguration RepositoryNotFoundException': 'a missing repository is a REPOSITORY_NOT_FOUND failure in the answer',
  'ecr-public PutImage ImageTagAlreadyExistsException': 'ECR Public repositories have no tag immutability',
};

/** Modeled exceptions driven through the other service's operation, which runs the same handler (`service operation exception` → `service operation`). */
const SAME_HANDLER: Readonly<Record<string, string>> = {
  'ecr-public PutImage LimitExceededException': 'ecr PutImage',
};

/** The test that sends each operation a request its model refuses; InvalidParameterException for every operation with an input member. */
const MODEL_VALIDATION_TEST = 'test/ecr-modeled-errors.test.ts';

const root = join(import.meta.dirname, '..');
const testDirs = ['test', 'test/e2e'];
const tests = testDirs.flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => ({ path: `${dir}/${f}`, text: readFileSync(join(root, dir, f), 'utf8') })),
);
const python = readFileSync(join(root, 'test/e2e/python/boto3_smoke.py'), 'utf8');

function coveringTests(service: AwsService, operation: string): string[] {
  const sdkImport = service === 'ecr' ? '@aws-sdk/client-ecr\'' : '@aws-sdk/client-ecr-public';
  const command = new RegExp(`\\b(${operation}Command|paginate${operation})\\b`);
  const found = tests.filter((t) => t.text.includes(sdkImport) && command.test(t.text)).map((t) => `\`${t.path}\``);
  const cli = operation.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `-${c.toLowerCase()}`));
  if (tests.some((t) => t.path.startsWith('test/e2e/') && t.text.includes(`'${service}', '${cli}'`))) found.push('AWS CLI e2e');
  const snake = cli.replaceAll('-', '_');
  if (service === 'ecr' && python.includes(`ecr.${snake}(`)) found.push('boto3');
  return found;
}

const SDK_PACKAGES: Readonly<Record<string, AwsService>> = { '@aws-sdk/client-ecr': 'ecr', '@aws-sdk/client-ecr-public': 'ecr-public' };

/**
 * `service operation exception` → the test files with a statement that
 * sends that operation through the SDK and names that exception (as the
 * expected name or the class checked with `instanceof`).
 */
function drivenExceptions(): Map<string, Set<string>> {
  const driven = new Map<string, Set<string>>();
  for (const { path, text } of tests) {
    const operations: { mention: RegExp; service: AwsService; operation: string }[] = [];
    /** Names a file imports an exception class under (`Public…` aliases), besides its own. */
    const exceptionAliases = new Map<string, string[]>();
    for (const [, specifiers = '', module = ''] of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-ecr(?:-public)?)'/g)) {
      const service = SDK_PACKAGES[module] as AwsService;
      for (const specifier of specifiers.split(',').map((part) => part.trim())) {
        const [name = '', local = name] = specifier.split(/\s+as\s+/);
        const operation = /^(?:(\w+)Command|paginate(\w+))$/.exec(name)?.slice(1).find((part) => part !== undefined);
        if (operation && MODELS[service].operations[operation]) operations.push({ mention: new RegExp(`\\b${local}\\b`), service, operation });
        if (name.endsWith('Exception') && local !== name) exceptionAliases.set(name, [...(exceptionAliases.get(name) ?? []), local]);
      }
    }
    for (const [, namespace = '', module = ''] of text.matchAll(/import\s*\*\s*as\s*(\w+)\s*from\s*'(@aws-sdk\/client-ecr(?:-public)?)'/g)) {
      const service = SDK_PACKAGES[module] as AwsService;
      for (const operation of Object.keys(MODELS[service].operations)) {
        operations.push({ mention: new RegExp(`\\b${namespace}\\.(?:${operation}Command|paginate${operation})\\b`), service, operation });
      }
    }
    // Imports name every command and exception of a file, and test titles name exceptions the test body may not drive.
    const code = text
      .replace(/^import[^;]*;$/gm, '')
      .replace(/^\s*\/\/.*$/gm, '')
      .replace(/\b(test|describe)\(\s*(['"`]).*?[^\\]\2/g, '$1(');
    for (const statement of code.split(/;\s*\n/)) {
      for (const { mention, service, operation } of operations) {
        if (!mention.test(statement)) continue;
        for (const exception of MODELS[service].operations[operation]?.errors ?? []) {
          if (!new RegExp(`\\b(?:${[exception, ...(exceptionAliases.get(exception) ?? [])].join('|')})\\b`).test(statement)) continue;
          const key = `${service} ${operation} ${exception}`;
          driven.set(key, (driven.get(key) ?? new Set()).add(`\`${path}\``));
        }
      }
    }
  }
  return driven;
}

const driven = drivenExceptions();
if (!tests.some((t) => t.path === MODEL_VALIDATION_TEST && t.text.includes('modelInvalidInput'))) throw new Error(`${MODEL_VALIDATION_TEST} no longer sends every operation a model-invalid request`);

interface ExceptionCoverage {
  driven: string[];
  notRaised: string[];
  untested: string[];
}

function exceptionCoverage(service: AwsService, operation: string): ExceptionCoverage {
  const coverage: ExceptionCoverage = { driven: [], notRaised: [], untested: [] };
  const model = MODELS[service];
  const inputMembers = Object.keys((model.shapes[model.operations[operation]?.input ?? ''] as { members?: object } | undefined)?.members ?? {});
  for (const exception of [...(model.operations[operation]?.errors ?? [])].sort()) {
    const key = `${service} ${operation} ${exception}`;
    const files = driven.get(key);
    const sameHandler = SAME_HANDLER[key];
    if (files) coverage.driven.push(`${exception} (${[...files].sort().join(', ')})`);
    else if (exception === 'InvalidParameterException' && inputMembers.length > 0) coverage.driven.push(`${exception} (\`${MODEL_VALIDATION_TEST}\`)`);
    else if (sameHandler) {
      const [sameService, sameOperation] = sameHandler.split(' ');
      const sameFiles = driven.get(`${sameHandler} ${exception}`);
      if (!sameFiles) throw new Error(`${key}: ${sameHandler}, whose handler it shares, does not drive it either`);
      coverage.driven.push(`${exception} (through ${sameService === 'ecr' ? 'ECR' : 'ECR Public'}'s ${sameOperation}, the same handler: ${[...sameFiles].sort().join(', ')})`);
    } else if (NEVER_RAISED[exception]) coverage.notRaised.push(exception);
    else if (NOT_RAISED_BY[key]) coverage.notRaised.push(`${exception}: ${NOT_RAISED_BY[key]}`);
    else if (exception === 'InvalidParameterException') coverage.notRaised.push(`${exception}: the input has no members`);
    else coverage.untested.push(exception);
  }
  return coverage;
}

const lines = [
  '# API coverage: ECR and ECR Public',
  '',
  'Generated by `node --import tsx scripts/api-coverage.ts` from the botocore',
  'models (src/aws/models) and the tests. `test/ecr-sdk.test.ts` checks that',
  'every operation has a handler. "Honest" marks operations whose answer is',
  'truthful but empty or fixed until the feature behind it exists.',
  '',
  'The models are botocore 1.43.11\'s. The AWS SDK for JavaScript in',
  'package-lock.json is newer and has four ECR operations they lack',
  '(StartReplicationBackfill, StopReplicationBackfill, ListReplicationBackfills,',
  'DescribeReplicationBackfillResults); Berth answers them',
  '`UnknownOperationException` until the models are regenerated with them',
  '(replication itself comes later).',
  '',
];
for (const service of ['ecr', 'ecr-public'] as const) {
  const operations = Object.keys(MODELS[service].operations).sort();
  lines.push(`## ${service === 'ecr' ? 'ECR' : 'ECR Public'} (${operations.length} operations)`, '', '| Operation | Status | Tests |', '|---|---|---|');
  for (const operation of operations) {
    const honest = HONEST_EMPTY[service]?.[operation];
    const covering = coveringTests(service, operation);
    lines.push(`| ${operation} | ${honest ? `honest: ${honest}` : 'implemented'} | ${covering.join(', ') || '—'} |`);
  }
  lines.push('');
}

lines.push(
  '## Modeled exceptions',
  '',
  'For each exception an operation\'s model lists: the test files that drive it',
  'through `@aws-sdk/client-ecr` or `@aws-sdk/client-ecr-public` (a statement',
  'that sends the operation and names the exception, as the expected name or',
  'the class checked with `instanceof`), or why Berth never raises it.',
  'InvalidParameterException is driven for every operation with an input',
  `member by \`${MODEL_VALIDATION_TEST}\`, which sends each a request its model`,
  'refuses. For an exception listed under "Not raised by Berth" without a',
  'reason of its own, the reason holds for every operation:',
  '',
  ...Object.entries(NEVER_RAISED).map(([exception, reason]) => `- ${exception}: ${reason}.`),
  '',
);
const untested: string[] = [];
for (const service of ['ecr', 'ecr-public'] as const) {
  lines.push(`### ${service === 'ecr' ? 'ECR' : 'ECR Public'}`, '', '| Operation | Driven through the SDK | Not raised by Berth | Not tested |', '|---|---|---|---|');
  for (const operation of Object.keys(MODELS[service].operations).sort()) {
    const coverage = exceptionCoverage(service, operation);
    untested.push(...coverage.untested.map((exception) => `${service} ${operation} ${exception}`));
    lines.push(`| ${operation} | ${coverage.driven.join('<br>') || '—'} | ${coverage.notRaised.join('<br>') || '—'} | ${coverage.untested.join('<br>') || '—'} |`);
  }
  lines.push('');
}
if (untested.length > 0) console.warn(`modeled exceptions Berth may raise that no test drives through the SDK:\n  ${untested.join('\n  ')}`);
writeFileSync(join(root, 'docs/api-coverage.md'), lines.join('\n'));
