/**
 * The AWS model layer (src/aws): the generated ECR and ECR Public models,
 * request validation with ECR's error wording, Java-to-JavaScript pattern
 * translation, output serialization, pagination tokens and the operation
 * table. No HTTP and no storage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { javaPatternToRegExp } from '../src/aws/java-pattern.js';
import type { ServiceModel, Shape } from '../src/aws/model-types.js';
import { ECR_PUBLIC_MODEL } from '../src/aws/models/ecr-public.js';
import { ECR_MODEL } from '../src/aws/models/ecr.js';
import { MODELS, OPERATIONS, resourceArn, serviceForTarget, type AwsService } from '../src/aws/operations.js';
import { decodeNextToken, encodeNextToken, pageLimit, readPageRequest } from '../src/aws/pagination.js';
import { serializeOutput, toEpochSeconds } from '../src/aws/serialize.js';
import { isOperationName, validateOperationInput, type OperationHandlers } from '../src/aws/typed-operations.js';
import { validateInput, type ValidationResult } from '../src/aws/validate.js';

function invalidParameter(path: string, constraint: string): ValidationResult {
  return { ok: false, error: { type: 'InvalidParameterException', message: `Invalid parameter at '${path}' failed to satisfy constraint: '${constraint}'` } };
}

function serializationError(message: string): ValidationResult {
  return { ok: false, error: { type: 'SerializationException', message } };
}

function assertValid(result: ValidationResult): Readonly<Record<string, unknown>> {
  if (!result.ok) assert.fail(`expected valid input, got ${result.error.type}: ${result.error.message}`);
  return result.input;
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const UPLOAD_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const ECR_REPOSITORY_PATTERN = String.raw`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`;

describe('generated models', () => {
  test('ECR has 58 operations and ECR Public 23 (botocore 1.43.11)', () => {
    assert.equal(Object.keys(ECR_MODEL.operations).length, 58);
    assert.equal(Object.keys(ECR_PUBLIC_MODEL.operations).length, 23);
    assert.equal(ECR_MODEL.targetPrefix, 'AmazonEC2ContainerRegistry_V20150921');
    assert.equal(ECR_PUBLIC_MODEL.targetPrefix, 'SpencerFrontendService');
    assert.equal(ECR_PUBLIC_MODEL.signingName, 'ecr-public');
  });

  for (const model of [ECR_MODEL, ECR_PUBLIC_MODEL]) {
    test(`${model.signingName}: every shape an operation or shape names exists, and every error is a modeled exception`, () => {
      const named: string[] = [];
      for (const operation of Object.values(model.operations)) {
        named.push(operation.input, operation.output);
        for (const error of operation.errors) {
          const shape = shapeAt(model, error);
          assert.ok(shape.type === 'structure' && shape.exception === true, `${error} is not a modeled exception`);
        }
      }
      for (const shape of Object.values(model.shapes)) {
        if (shape.type === 'structure') named.push(...Object.values(shape.members));
        if (shape.type === 'list') named.push(shape.member);
        if (shape.type === 'map') named.push(shape.key, shape.value);
      }
      for (const name of named) assert.ok(model.shapes[name], `${model.signingName} names missing shape ${name}`);
    });

    test(`${model.signingName}: every pattern translates to a JavaScript RegExp`, () => {
      for (const shape of Object.values(model.shapes)) {
        if (shape.type === 'string' && shape.pattern !== undefined) assert.ok(javaPatternToRegExp(shape.pattern) instanceof RegExp);
      }
    });
  }

  test('page-size defaults come from the model: 100 for most listings, 20 for ListImageReferrers', () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(ECR_MODEL.operations).flatMap(([name, operation]) => (operation.pagination ? [[name, operation.pagination.defaultMaxResults]] : []))),
      {
        DescribeImageScanFindings: 100,
        DescribeImages: 100,
        DescribePullThroughCacheRules: 100,
        DescribeRepositories: 100,
        DescribeRepositoryCreationTemplates: 100,
        GetLifecyclePolicyPreview: 100,
        ListImageReferrers: 20,
        ListImages: 100,
        ListPullTimeUpdateExclusions: 100,
      },
    );
    assert.deepEqual(ECR_MODEL.operations.DescribeImageScanFindings?.pagination?.resultKeys, ['imageScanFindings.findings', 'imageScanFindings.enhancedFindings']);
    assert.deepEqual(
      Object.keys(ECR_PUBLIC_MODEL.operations).filter((name) => ECR_PUBLIC_MODEL.operations[name]?.pagination?.defaultMaxResults === 100),
      ['DescribeImageTags', 'DescribeImages', 'DescribeRegistries', 'DescribeRepositories'],
    );
  });
});

// ---------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------

/** A value each model pattern accepts, for the sweep below; a new pattern in a regenerated model must be added here. */
const PATTERN_SAMPLES: Readonly<Record<string, string>> = {
  '[0-9]{12}': '123456789012',
  '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}': UPLOAD_ID,
  '[0-9a-z-]{2,25}': 'us-east-1',
  [ECR_REPOSITORY_PATTERN]: 'team/app',
  '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*': 'team/app',
  '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+': DIGEST,
  '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+': 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a',
  '^(?:[a-z0-9*]+(?:[._-][a-z0-9*]+)*/)*[a-z0-9*]+(?:[._-][a-z0-9*]+)*$': 'team/*',
  '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$': 'prod-',
  '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$': 'docker-hub/',
  '^[0-9a-zA-Z._*-]{1,128}$': 'release-*',
  '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$': 'prod/*',
  '^\\S+$': 'c2lnbmF0dXJl',
  '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\\w+=,.@-]+(/[\\w+=,.@-]+)*$': 'arn:aws:iam::123456789012:role/ci/deployer',
  '^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\\/signing-profiles\\/[a-zA-Z0-9_]{2,}$': 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/Release_1',
  '^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$':
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf',
  '[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*': 'my-alias',
};

/** Times every model pattern on 100 000-character strings that almost match, and prints the slowest time per pattern. */
const PATTERN_TIMING_SCRIPT = `
import { javaPatternToRegExp } from './src/aws/java-pattern.ts';
import { ECR_MODEL } from './src/aws/models/ecr.ts';
import { ECR_PUBLIC_MODEL } from './src/aws/models/ecr-public.ts';
const units = ['a', 'a-', 'a.', 'a_', 'a__', 'a/', 'a*', 'a-/', '0', ':a', 'arn:aws-a'];
const nearMisses = units.flatMap((unit) => [unit.repeat(100000 / unit.length) + '!', 'arn:aws:' + unit.repeat(100000 / unit.length) + ' ']);
const slowest = {};
for (const model of [ECR_MODEL, ECR_PUBLIC_MODEL]) {
  for (const shape of Object.values(model.shapes)) {
    if (shape.type !== 'string' || shape.pattern === undefined) continue;
    const regExp = javaPatternToRegExp(shape.pattern);
    for (const value of nearMisses) {
      const start = performance.now();
      regExp.test(value);
      slowest[shape.pattern] = Math.max(slowest[shape.pattern] ?? 0, performance.now() - start);
    }
  }
}
console.log(JSON.stringify(slowest));
`;

describe('Java patterns in JavaScript', () => {
  const cases: readonly { pattern: string; accepts: readonly string[]; rejects: readonly string[]; why: string }[] = [
    {
      why: 'the whole value must match, as with Matcher.matches()',
      pattern: '[0-9]{12}',
      accepts: ['123456789012'],
      rejects: ['1234567890123', 'x123456789012', '123456789012\n', ''],
    },
    {
      why: 'a hyphen after a range ([0-9-_]) is literal in Java; JavaScript needs the non-unicode syntax for it',
      pattern: '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+',
      accepts: [DIGEST, 'a-b_c+d.e:0F', 'sha-256:1'],
      rejects: ['sha256:xyz', 'sha256:', ':00', 'sha256:ab ', 'sha/256:00'],
    },
    {
      why: "Java's \\S is ASCII-only, so NBSP and U+2028 count as non-space; $ before a final newline does not make matches() succeed",
      pattern: '^\\S+$',
      accepts: ['abc', 'a\u00a0b', 'a\u2028b', 'a\ufeffb'],
      rejects: ['a b', 'a\tb', 'abc\n', '\u000bx', ''],
    },
    {
      why: 'an alternative that is empty: ^$ inside a wrapped pattern',
      pattern: '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+',
      accepts: ['', 'arn:aws:kms:us-east-1:123456789012:key/abc-1', 'arn:aws-cn:kms:cn-north-1:123456789012:key/1'],
      rejects: ['x', 'arn:aws:kms:us-east-1:123456789012:key/ABC', ' arn:aws:kms:us-east-1:123456789012:key/a'],
    },
    {
      why: 'OCI separators: ., _, __ and runs of -, but not ___ or a leading or trailing separator',
      pattern: ECR_REPOSITORY_PATTERN,
      accepts: ['ab', 'a__b', 'a---b', 'team/app.v2', '0/1'],
      rejects: ['a___b', '_ab', 'ab-', '/ab', 'ab/', 'a//b', 'Ab', 'a b', 'a._b'],
    },
    {
      why: '\\- outside a class and (-\\w+)* in the secretsmanager ARN',
      pattern: '^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$',
      accepts: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x', 'arn:aws-us_gov:secretsmanager:a:b:secret:ecr-pullthroughcache/a/b=c'],
      rejects: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:other/x', 'arn:aws:secretsmanager:us-east-1:1:secret:ecr-pullthroughcache/'],
    },
    {
      why: '\\w and a trailing - inside a class',
      pattern: '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\\w+=,.@-]+(/[\\w+=,.@-]+)*$',
      accepts: ['arn:aws:iam::123456789012:user/a+b=c,d.e@f-g_h', 'arn:aws-cn:iam::123456789012:role/path/name'],
      rejects: ['arn:aws:iam::123456789012:group/a', 'arn:aws:iam::123456789012:role/', 'arn:aws:iam::123456789012:role/a//b', 'arn:aws:iam::123456789012:role/é'],
    },
    {
      why: 'an alternation with ROOT inside an anchored group, and an optional trailing slash',
      pattern: '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$',
      accepts: ['ROOT', 'docker-hub', 'docker-hub/', 'a/b/'],
      rejects: ['ROOT/', 'ROOT/x', 'Docker', 'a//'],
    },
    {
      why: 'an escaped hyphen and a slash inside a class',
      pattern: '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$',
      accepts: ['*', 'prod/*', 'a-b', 'a*b'],
      rejects: ['-a', 'a-', 'a--b', 'A'],
    },
  ];
  for (const { pattern, accepts, rejects, why } of cases) {
    test(why, () => {
      const regExp = javaPatternToRegExp(pattern);
      for (const value of accepts) assert.ok(regExp.test(value), `${pattern} should accept ${JSON.stringify(value)}`);
      for (const value of rejects) assert.ok(!regExp.test(value), `${pattern} should reject ${JSON.stringify(value)}`);
    });
  }

  test('Java constructs without a faithful JavaScript translation are refused', () => {
    for (const pattern of ['a*+', '[a-z]++', 'x{2}+', '\\p{Alpha}+', '(?i)abc', '(?>a)', '[a-z&&[^e]]', '\\Qa.b\\E', 'a\\Z', '[\\S]']) {
      assert.throws(() => javaPatternToRegExp(pattern), /no faithful JavaScript translation/, pattern);
    }
  });

  test('a pattern rewritten against exponential backtracking accepts exactly what the original accepts', () => {
    const pattern = '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$';
    const original = new RegExp(`^(?:${pattern})$`);
    const rewritten = javaPatternToRegExp(pattern);
    assert.notEqual(rewritten.source, original.source);
    const alphabet = ['a', '*', '.', '-', '/', '_', 'A'];
    let strings = [''];
    for (let length = 0; length <= 6; length++) {
      for (const value of strings) assert.equal(rewritten.test(value), original.test(value), JSON.stringify(value));
      strings = strings.flatMap((prefix) => alphabet.map((character) => prefix + character));
    }
  });

  test('every model pattern answers long near-misses in linear time', () => {
    // In a child process: a catastrophic pattern blocks the thread, so only a kill can end it.
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PATTERN_TIMING_SCRIPT], { encoding: 'utf8', timeout: 30_000, cwd: process.cwd() });
    assert.equal(run.signal, null, 'a model pattern backtracks catastrophically (killed after 30 s)');
    assert.equal(run.status, 0, run.stderr);
    const slowest = JSON.parse(run.stdout) as Record<string, number>;
    for (const [pattern, milliseconds] of Object.entries(slowest)) assert.ok(milliseconds < 1000, `${pattern} took ${milliseconds} ms on a 100 000-character near-miss`);
  });

  test('every pattern in both models has a sample that it accepts', () => {
    for (const model of [ECR_MODEL, ECR_PUBLIC_MODEL]) {
      for (const [name, shape] of Object.entries(model.shapes)) {
        if (shape.type !== 'string' || shape.pattern === undefined) continue;
        const sample = PATTERN_SAMPLES[shape.pattern];
        assert.ok(sample !== undefined, `${model.signingName} ${name}: add a sample for ${shape.pattern}`);
        assert.ok(javaPatternToRegExp(shape.pattern).test(sample), `${name}: ${shape.pattern} rejects its sample ${sample}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------
// Constraints, with the exact messages
// ---------------------------------------------------------------------------

describe('validation messages', () => {
  const ecr = (operation: string, input: unknown): ValidationResult => validateInput(ECR_MODEL, operation, input);
  const ecrPublic = (operation: string, input: unknown): ValidationResult => validateInput(ECR_PUBLIC_MODEL, operation, input);

  test('string: length and pattern of repositoryName are worded as ECR words its own check', () => {
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'a' }), invalidParameter('repositoryName', 'must have length greater than or equal to 2'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'a'.repeat(257) }), invalidParameter('repositoryName', 'must have length less than or equal to 256'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'Bad Name' }), invalidParameter('repositoryName', `must satisfy regular expression '${ECR_REPOSITORY_PATTERN}'`));
    // Even an element of repositoryNames is reported at 'repositoryName'.
    assert.deepEqual(ecr('DescribeRepositories', { repositoryNames: ['ok', 'NOT/ok'] }), invalidParameter('repositoryName', `must satisfy regular expression '${ECR_REPOSITORY_PATTERN}'`));
  });

  test('string: min and max length, pattern and enum elsewhere use the framework wording', () => {
    assert.deepEqual(ecr('PutImage', { repositoryName: 'ok', imageManifest: '{}', imageTag: '' }), invalidParameter('imageTag', 'Member must have length greater than or equal to 1'));
    assert.deepEqual(ecr('PutImage', { repositoryName: 'ok', imageManifest: '{}', imageTag: 't'.repeat(301) }), invalidParameter('imageTag', 'Member must have length less than or equal to 300'));
    assert.deepEqual(ecr('CreateRepository', { registryId: '12345', repositoryName: 'ok' }), invalidParameter('registryId', 'Member must satisfy regular expression pattern: [0-9]{12}'));
    assert.deepEqual(
      ecr('CreateRepository', { repositoryName: 'ok', imageTagMutability: 'mutable' }),
      invalidParameter('imageTagMutability', 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'),
    );
    assert.deepEqual(
      ecrPublic('CreateRepository', { repositoryName: 'Bad' }),
      invalidParameter('repositoryName', 'Member must satisfy regular expression pattern: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'),
    );
    assert.deepEqual(ecrPublic('CreateRepository', { repositoryName: 'x'.repeat(206) }), invalidParameter('repositoryName', 'Member must have length less than or equal to 205'));
  });

  test('integer: maxResults range', () => {
    assert.deepEqual(ecr('DescribeRepositories', { maxResults: 1001 }), invalidParameter('maxResults', 'Member must have value less than or equal to 1000'));
    assert.deepEqual(ecr('DescribeRepositories', { maxResults: 0 }), invalidParameter('maxResults', 'Member must have value greater than or equal to 1'));
    assert.deepEqual(ecr('ListImageReferrers', { repositoryName: 'ok', subjectId: { imageDigest: DIGEST }, maxResults: 51 }), invalidParameter('maxResults', 'Member must have value less than or equal to 50'));
    assert.deepEqual(ecr('DescribeRepositories', { maxResults: 2.5 }), serializationError('NUMBER_VALUE can not be converted to an Integer'));
    assert.deepEqual(ecr('DescribeRepositories', { maxResults: '10' }), serializationError('STRING_VALUE can not be converted to an Integer'));
  });

  test('long: partFirstByte below its minimum, beyond 2^53, of the wrong type', () => {
    const part = { repositoryName: 'ok', uploadId: UPLOAD_ID, partFirstByte: 0, partLastByte: 9, layerPartBlob: 'AAAA' };
    assertValid(ecr('UploadLayerPart', part));
    assert.deepEqual(ecr('UploadLayerPart', { ...part, partFirstByte: -1 }), invalidParameter('partFirstByte', 'Member must have value greater than or equal to 0'));
    assert.deepEqual(ecr('UploadLayerPart', { ...part, partLastByte: 2 ** 60 }), serializationError('NUMBER_VALUE can not be converted to a Long'));
    assert.deepEqual(ecr('UploadLayerPart', { ...part, partLastByte: true }), serializationError('BOOLEAN_VALUE can not be converted to a Long'));
  });

  test('list: size bounds, a scalar element, a structure element, a null element', () => {
    assert.deepEqual(ecr('BatchGetImage', { repositoryName: 'ok', imageIds: [] }), invalidParameter('imageIds', 'Member must have length greater than or equal to 1'));
    const imageIds = Array.from({ length: 101 }, (_, index) => ({ imageTag: `t${index}` }));
    assert.deepEqual(ecr('BatchDeleteImage', { repositoryName: 'ok', imageIds }), invalidParameter('imageIds', 'Member must have length less than or equal to 100'));
    assert.deepEqual(
      ecr('GetAuthorizationToken', { registryIds: ['123456789012', 'abc'] }),
      invalidParameter('registryIds', 'Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{12}]'),
    );
    assert.deepEqual(ecr('BatchGetImage', { repositoryName: 'ok', imageIds: [{ imageTag: 'a' }, { imageTag: '' }] }), invalidParameter('imageIds.2.member.imageTag', 'Member must have length greater than or equal to 1'));
    assert.deepEqual(ecr('GetAuthorizationToken', { registryIds: [null] }), invalidParameter('registryIds', 'Member must satisfy constraint: [Member must not be null]'));
    assert.deepEqual(ecr('BatchGetImage', { repositoryName: 'ok', imageIds: [null] }), invalidParameter('imageIds.1.member', 'Member must not be null'));
    assert.deepEqual(ecr('BatchGetImage', { repositoryName: 'ok', imageIds: { imageTag: 'a' } }), serializationError('Start of structure or map found where not expected.'));
    assert.deepEqual(ecr('BatchGetImage', { repositoryName: 'ok', imageIds: 'a' }), serializationError('STRING_VALUE can not be converted to a List'));
  });

  test('structure: a required member missing at the top and nested; a list where a structure belongs', () => {
    assert.deepEqual(ecr('CreateRepository', {}), invalidParameter('repositoryName', 'Member must not be null'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: null }), invalidParameter('repositoryName', 'Member must not be null'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: {} }), invalidParameter('encryptionConfiguration.encryptionType', 'Member must not be null'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'ok', tags: [{ Key: 'team' }] }), invalidParameter('tags.1.member.Value', 'Member must not be null'));
    assert.deepEqual(
      ecr('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: '' } }),
      invalidParameter('encryptionConfiguration.kmsKey', 'Member must have length greater than or equal to 1'),
    );
    assert.deepEqual(ecr('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: [] }), serializationError('Start of list found where not expected'));
    assert.deepEqual(ecr('CreateRepository', { repositoryName: { name: 'ok' } }), serializationError('Start of structure or map found where not expected.'));
    assert.deepEqual(ecr('CreateRepository', ['ok']), serializationError('Start of list found where not expected'));
    assert.deepEqual(ecr('CreateRepository', 'ok'), serializationError('STRING_VALUE can not be converted to a Structure'));
  });

  test('the first violation in model order is the one reported, after any type error', () => {
    assert.deepEqual(ecr('PutImage', { repositoryName: 'AB', imageTag: '' }), invalidParameter('repositoryName', `must satisfy regular expression '${ECR_REPOSITORY_PATTERN}'`));
    assert.deepEqual(ecr('PutImage', { repositoryName: 'A', imageTag: 7 }), serializationError('NUMBER_VALUE can not be converted to a String'));
  });

  test('boolean: force must be a JSON boolean', () => {
    assert.deepEqual(assertValid(ecr('DeleteRepository', { repositoryName: 'ok', force: true })), { repositoryName: 'ok', force: true });
    assert.deepEqual(ecr('DeleteRepository', { repositoryName: 'ok', force: 'true' }), serializationError('STRING_VALUE can not be converted to a Boolean'));
  });

  test('blob: base64 decoded to bytes, bounded by the decoded size', () => {
    const part = { repositoryName: 'ok', uploadId: UPLOAD_ID, partFirstByte: 0, partLastByte: 2, layerPartBlob: Buffer.from('abc').toString('base64') };
    assert.deepEqual(assertValid(ecr('UploadLayerPart', part)).layerPartBlob, Buffer.from('abc'));
    assert.deepEqual(ecr('UploadLayerPart', { ...part, layerPartBlob: 'not base64!' }), serializationError('Base64 encoded value could not be decoded'));
    assert.deepEqual(ecr('UploadLayerPart', { ...part, layerPartBlob: [1, 2] }), serializationError('Start of list found where not expected'));
    const logo = (size: number) => ({ repositoryName: 'ok', catalogData: { logoImageBlob: Buffer.alloc(size).toString('base64') } });
    assertValid(ecrPublic('PutRepositoryCatalogData', logo(512_000)));
    assert.deepEqual(ecrPublic('PutRepositoryCatalogData', logo(512_001)), invalidParameter('catalogData.logoImageBlob', 'Member must have length less than or equal to 512000'));
    // A whole 20 MiB part, as base64 in the JSON body, is read without exhausting the stack.
    const largest = Buffer.alloc(20 * 1024 * 1024, 1);
    assert.equal((assertValid(ecr('UploadLayerPart', { ...part, layerPartBlob: largest.toString('base64') })).layerPartBlob as Buffer).length, largest.length);
    assert.deepEqual(
      ecr('UploadLayerPart', { ...part, layerPartBlob: Buffer.concat([largest, Buffer.alloc(1)]).toString('base64') }),
      invalidParameter('layerPartBlob', 'Member must have length less than or equal to 20971520'),
    );
  });

  test('unknown members are ignored and dropped', () => {
    assert.deepEqual(assertValid(ecr('CreateRepository', { repositoryName: 'ok', color: 'blue', toString: 1 })), { repositoryName: 'ok' });
  });

  // Neither model has a map, timestamp or double in any input, so a small model of its own covers them.
  const SYNTHETIC: ServiceModel = {
    signingName: 'synthetic',
    targetPrefix: 'Synthetic',
    apiVersion: '2026-11-23',
    operations: { Put: { input: 'PutRequest', output: 'PutResponse', errors: [] } },
    shapes: {
      PutRequest: { type: 'structure', members: { labels: 'Labels', rules: 'Rules', notes: 'Notes', since: 'Since', ratio: 'Ratio' } },
      PutResponse: { type: 'structure', members: {} },
      Labels: { type: 'map', key: 'LabelKey', value: 'LabelValue', min: 1, max: 2 },
      LabelKey: { type: 'string', min: 1, max: 3, pattern: '[a-z]+' },
      LabelValue: { type: 'string', max: 5 },
      Notes: { type: 'map', key: 'NoteKey', value: 'LabelValue' },
      NoteKey: { type: 'string' },
      Rules: { type: 'map', key: 'LabelKey', value: 'Rule' },
      Rule: { type: 'structure', members: { level: 'Level' }, required: ['level'] },
      Level: { type: 'integer', min: 1 },
      Since: { type: 'timestamp' },
      Ratio: { type: 'double', min: 0, max: 1 },
    },
  };
  const synthetic = (input: unknown): ValidationResult => validateInput(SYNTHETIC, 'Put', input);

  test('map: size, keys, scalar values and structure values', () => {
    assert.deepEqual(assertValid(synthetic({ labels: { ab: 'x' }, rules: { a: { level: 1 } } })), { labels: { ab: 'x' }, rules: { a: { level: 1 } } });
    assert.deepEqual(synthetic({ labels: {} }), invalidParameter('labels', 'Member must have length greater than or equal to 1'));
    assert.deepEqual(synthetic({ labels: { a: '1', b: '2', c: '3' } }), invalidParameter('labels', 'Member must have length less than or equal to 2'));
    assert.deepEqual(
      synthetic({ labels: { ABCD: 'x' } }),
      invalidParameter('labels', 'Map keys must satisfy constraint: [Member must have length less than or equal to 3, Member must satisfy regular expression pattern: [a-z]+]'),
    );
    assert.deepEqual(synthetic({ labels: { a: 'toolong' } }), invalidParameter('labels', 'Map value must satisfy constraint: [Member must have length less than or equal to 5]'));
    assert.deepEqual(synthetic({ rules: { a: {} } }), invalidParameter('rules.a.member.level', 'Member must not be null'));
    assert.deepEqual(synthetic({ rules: { a: { level: 0 } } }), invalidParameter('rules.a.member.level', 'Member must have value greater than or equal to 1'));
    assert.deepEqual(synthetic({ labels: ['a'] }), serializationError('Start of list found where not expected'));
    // A "__proto__" key stays a plain entry.
    const notes = assertValid(synthetic(JSON.parse('{"notes":{"__proto__":"x"}}'))).notes;
    assert.deepEqual(Object.keys(notes as object), ['__proto__']);
    assert.equal(Object.getPrototypeOf(notes), Object.prototype);
  });

  test('timestamp: epoch seconds, fractions allowed, become a Date', () => {
    assert.deepEqual(assertValid(synthetic({ since: 1718000000.25 })).since, new Date(1718000000250));
    assert.deepEqual(synthetic({ since: '2024-06-10T06:13:20Z' }), serializationError('STRING_VALUE can not be converted to a Date'));
  });

  test('double: range', () => {
    assertValid(synthetic({ ratio: 0.5 }));
    assert.deepEqual(synthetic({ ratio: 1.5 }), invalidParameter('ratio', 'Member must have value less than or equal to 1'));
    assert.deepEqual(synthetic({ ratio: -0.5 }), invalidParameter('ratio', 'Member must have value greater than or equal to 0'));
    assert.deepEqual(synthetic({ ratio: '0.5' }), serializationError('STRING_VALUE can not be converted to a Double'));
  });

  test('an operation the model lacks is a programming error', () => {
    assert.throws(() => validateInput(ECR_MODEL, 'DescribeRegistries', {}), RangeError);
  });
});

// ---------------------------------------------------------------------------
// Every operation
// ---------------------------------------------------------------------------

type Fill = 'required' | 'all';

/** A value satisfying the shape's constraints; `all` fills optional members too and gives lists one element. */
function sampleValue(model: ServiceModel, shapeName: string, fill: Fill): unknown {
  const shape = shapeAt(model, shapeName);
  switch (shape.type) {
    case 'structure': {
      const members = Object.entries(shape.members).filter(([member]) => fill === 'all' || shape.required?.includes(member));
      return Object.fromEntries(members.map(([member, memberShape]) => [member, sampleValue(model, memberShape, fill)]));
    }
    case 'list':
      return Array.from({ length: Math.max(shape.min ?? 0, fill === 'all' ? 1 : 0) }, () => sampleValue(model, shape.member, fill));
    case 'map':
      return {};
    case 'string':
      if (shape.enum) return shape.enum[0];
      if (shape.pattern !== undefined) return PATTERN_SAMPLES[shape.pattern];
      return 'x'.repeat(Math.max(shape.min ?? 1, 1));
    case 'integer':
    case 'long':
    case 'double':
      return shape.min ?? 1;
    case 'boolean':
      return true;
    case 'timestamp':
      return 1718000000;
    case 'blob':
      return Buffer.alloc(shape.min ?? 1).toString('base64');
  }
}

function shapeAt(model: ServiceModel, shapeName: string): Shape {
  const shape = model.shapes[shapeName];
  assert.ok(shape, `${model.signingName} has no shape ${shapeName}`);
  return shape;
}

describe('every operation of both models', () => {
  for (const model of [ECR_MODEL, ECR_PUBLIC_MODEL]) {
    for (const [operation, { input }] of Object.entries(model.operations)) {
      test(`${model.signingName} ${operation}`, () => {
        const inputShape = shapeAt(model, input);
        assert.equal(inputShape.type, 'structure');
        assertValid(validateInput(model, operation, sampleValue(model, input, 'required')));
        assertValid(validateInput(model, operation, sampleValue(model, input, 'all')));
        const firstRequired = inputShape.type === 'structure' ? inputShape.required?.[0] : undefined;
        const empty = validateInput(model, operation, {});
        if (firstRequired === undefined) {
          assert.deepEqual(empty, { ok: true, input: {} });
        } else {
          assert.deepEqual(empty, invalidParameter(firstRequired, 'Member must not be null'));
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------
// botocore
// ---------------------------------------------------------------------------

// botocore's client-side ParamValidator checks only JSON types, required
// members and `min` (length, size or value); it never checks `max`,
// patterns or enums, which the service does. So it must agree with us
// wherever it rejects, and accept what only the service refuses.
const BOTOCORE_VALIDATE = `
import json, sys
import botocore.session
from botocore.validate import ParamValidator
session = botocore.session.get_session()
results = []
for service, operation, params in json.loads(sys.argv[1]):
    shape = session.get_service_model(service).operation_model(operation).input_shape
    results.append(ParamValidator().validate(params, shape).has_errors())
print(json.dumps(results))
`;

function botocoreAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import botocore'], { encoding: 'utf8' }).status === 0;
}

describe('botocore agreement', () => {
  test('botocore rejects what it checks, as we do, and leaves patterns, max and enums to the service', { skip: botocoreAvailable() ? false : 'python3 with botocore not available' }, () => {
    const cases: readonly { service: AwsService; operation: string; params: Record<string, unknown>; botocoreRejects: boolean; valid?: true }[] = [
      { service: 'ecr', operation: 'PutImage', params: { repositoryName: 'team/app', imageManifest: '{}', imageTag: 'v1' }, botocoreRejects: false, valid: true },
      { service: 'ecr', operation: 'CreateRepository', params: {}, botocoreRejects: true },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 'a' }, botocoreRejects: true },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 5 }, botocoreRejects: true },
      { service: 'ecr', operation: 'DescribeRepositories', params: { maxResults: 0 }, botocoreRejects: true },
      { service: 'ecr', operation: 'BatchGetImage', params: { repositoryName: 'ok', imageIds: [] }, botocoreRejects: true },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 'ok', encryptionConfiguration: {} }, botocoreRejects: true },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 'Bad Name' }, botocoreRejects: false },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 'a___b' }, botocoreRejects: false },
      { service: 'ecr', operation: 'GetAuthorizationToken', params: { registryIds: ['123456789012', 'abc'] }, botocoreRejects: false },
      { service: 'ecr', operation: 'DescribeRepositories', params: { maxResults: 1001 }, botocoreRejects: false },
      { service: 'ecr', operation: 'CreateRepository', params: { repositoryName: 'ok', imageTagMutability: 'X' }, botocoreRejects: false },
      { service: 'ecr', operation: 'CreatePullThroughCacheRule', params: { ecrRepositoryPrefix: 'ROOT/', upstreamRegistryUrl: 'public.ecr.aws' }, botocoreRejects: false },
      { service: 'ecr-public', operation: 'CreateRepository', params: { repositoryName: 'ab' }, botocoreRejects: false, valid: true },
      { service: 'ecr-public', operation: 'CreateRepository', params: { repositoryName: 'Ab' }, botocoreRejects: false },
    ];
    const run = spawnSync('python3', ['-c', BOTOCORE_VALIDATE, JSON.stringify(cases.map(({ service, operation, params }) => [service, operation, params]))], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const botocoreRejected = JSON.parse(run.stdout) as boolean[];
    for (const [index, { service, operation, params, botocoreRejects, valid }] of cases.entries()) {
      const label = `${service} ${operation} ${JSON.stringify(params)}`;
      assert.equal(botocoreRejected[index], botocoreRejects, `botocore on ${label}`);
      const ours = validateInput(MODELS[service], operation, params);
      assert.equal(ours.ok, valid === true, `ours on ${label}`);
    }
  });
});

// ---------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------

describe('output serialization', () => {
  test('timestamps as epoch seconds, absent and null members omitted, unmodeled members dropped', () => {
    const createdAt = new Date(1718000000123);
    const body = serializeOutput(ECR_MODEL, 'DescribeRepositories', {
      repositories: [
        { repositoryName: 'team/app', createdAt, imageScanningConfiguration: { scanOnPush: false }, repositoryUri: undefined, encryptionConfiguration: null, internalId: 7 },
      ],
      nextToken: undefined,
    });
    assert.deepEqual(body, { repositories: [{ repositoryName: 'team/app', createdAt: 1718000000.123, imageScanningConfiguration: { scanOnPush: false } }] });
    assert.equal(JSON.stringify(body), '{"repositories":[{"repositoryName":"team/app","createdAt":1718000000.123,"imageScanningConfiguration":{"scanOnPush":false}}]}');
    assert.equal(toEpochSeconds(new Date(0)), 0);
  });

  test('maps keep their keys; blobs become base64', () => {
    const body = serializeOutput(ECR_MODEL, 'DescribeImageScanFindings', {
      imageScanFindings: { imageScanCompletedAt: new Date(1000), findingSeverityCounts: { HIGH: 2, LOW: 1 } },
    });
    assert.deepEqual(body, { imageScanFindings: { imageScanCompletedAt: 1, findingSeverityCounts: { HIGH: 2, LOW: 1 } } });
    const blobModel: ServiceModel = {
      ...ECR_MODEL,
      operations: { Get: { input: 'Empty', output: 'Out', errors: [] } },
      shapes: { Empty: { type: 'structure', members: {} }, Out: { type: 'structure', members: { data: 'Data' } }, Data: { type: 'blob' } },
    };
    assert.deepEqual(serializeOutput(blobModel, 'Get', { data: Buffer.from('hi') }), { data: 'aGk=' });
  });
});

// ---------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------

describe('pagination tokens', () => {
  const key = randomBytes(32);
  const scope = 'ecr:DescribeImages:123456789012:team/app';

  test('a token round-trips its position', () => {
    const position = { after: 'sha256:00', pushedAt: 1718000000.5, tags: ['a', 'b'] };
    const token = encodeNextToken(key, scope, position);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeNextToken(key, scope, token), { ok: true, position });
  });

  test('a tampered, foreign or malformed token is an InvalidParameterException', () => {
    const token = encodeNextToken(key, scope, { after: 'a' });
    const [payload, signature] = token.split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ after: 'z' })).toString('base64url')}.${signature}`;
    const flipped = `${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    for (const bad of [forged, flipped, `${payload}.`, payload, `${token}.x`, '', '...', 'a.b']) {
      const decoded = decodeNextToken(key, scope, bad);
      assert.equal(decoded.ok, false, bad);
      assert.equal(!decoded.ok && decoded.error.type, 'InvalidParameterException');
    }
    assert.equal(decodeNextToken(key, 'ecr:DescribeImages:123456789012:team/other', token).ok, false);
    assert.equal(decodeNextToken(randomBytes(32), scope, token).ok, false);
  });

  test('page size: maxResults when given, else the operation default', () => {
    assert.equal(pageLimit(ECR_MODEL, 'DescribeImages', undefined), 100);
    assert.equal(pageLimit(ECR_MODEL, 'DescribeImages', 1000), 1000);
    assert.equal(pageLimit(ECR_MODEL, 'ListImageReferrers', undefined), 20);
    assert.equal(pageLimit(ECR_PUBLIC_MODEL, 'DescribeRegistries', undefined), 100);
    assert.throws(() => pageLimit(ECR_MODEL, 'CreateRepository', undefined), RangeError);
  });

  test('readPageRequest reads maxResults and nextToken from a validated request', () => {
    const first = readPageRequest(ECR_MODEL, 'DescribeImages', assertValid(validateInput(ECR_MODEL, 'DescribeImages', { repositoryName: 'team/app' })), key, scope);
    assert.deepEqual(first, { ok: true, limit: 100 });
    const nextToken = encodeNextToken(key, scope, 'sha256:00');
    const next = readPageRequest(ECR_MODEL, 'DescribeImages', assertValid(validateInput(ECR_MODEL, 'DescribeImages', { repositoryName: 'team/app', maxResults: 5, nextToken })), key, scope);
    assert.deepEqual(next, { ok: true, limit: 5, position: 'sha256:00' });
    const bad = readPageRequest(ECR_MODEL, 'DescribeImages', { nextToken: 'junk' }, key, scope);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.message, "Invalid parameter at 'nextToken' failed to satisfy constraint: 'must be a nextToken returned by this operation'");
  });
});

// ---------------------------------------------------------------------------
// Operation table
// ---------------------------------------------------------------------------

describe('operation table', () => {
  test('lists exactly the operations of each model', () => {
    for (const service of ['ecr', 'ecr-public'] as const) {
      assert.deepEqual(Object.keys(OPERATIONS[service]).sort(), Object.keys(MODELS[service].operations).sort(), service);
    }
  });

  test('each action is <service>:<Operation>, except ListImageReferrers which is authorized as BatchGetImage', () => {
    for (const service of ['ecr', 'ecr-public'] as const) {
      for (const [operation, authorization] of Object.entries(OPERATIONS[service])) {
        const expected = service === 'ecr' && operation === 'ListImageReferrers' ? 'ecr:BatchGetImage' : `${service}:${operation}`;
        assert.equal(authorization.action, expected, operation);
      }
    }
  });

  test('repository operations name their repository; registry operations are on * (ECR) or the registry (ECR Public)', () => {
    for (const service of ['ecr', 'ecr-public'] as const) {
      for (const [operation, authorization] of Object.entries(OPERATIONS[service])) {
        const input = shapeAt(MODELS[service], MODELS[service].operations[operation]?.input ?? '');
        assert.equal(input.type, 'structure');
        if (authorization.resource === 'repository' && input.type === 'structure') {
          assert.ok(authorization.repositorySource !== undefined && authorization.repositorySource in input.members, `${service} ${operation} reads ${authorization.repositorySource}`);
        } else {
          assert.equal(authorization.repositorySource, undefined, operation);
        }
      }
    }
    assert.equal(OPERATIONS.ecr.GetAuthorizationToken?.resource, '*');
    assert.equal(OPERATIONS.ecr.PutReplicationConfiguration?.resource, '*');
    assert.equal(OPERATIONS.ecr.CreateRepository?.resource, 'repository');
    assert.equal(OPERATIONS.ecr.DescribeImageSigningStatus?.resource, 'repository');
    assert.equal(OPERATIONS['ecr-public'].DescribeRegistries?.resource, 'registry');
    assert.equal(Object.values(OPERATIONS.ecr).filter((authorization) => authorization.resource === '*').length, 25);
  });

  test('the extra actions AWS asks for', () => {
    assert.deepEqual(OPERATIONS['ecr-public'].GetAuthorizationToken?.additionalActions, [{ action: 'sts:GetServiceBearerToken', resource: '*' }]);
    assert.deepEqual(OPERATIONS.ecr.CreateRepository?.additionalActions, [{ action: 'ecr:TagResource', resource: 'operation', whenMember: 'tags' }]);
    assert.deepEqual(OPERATIONS.ecr.CreatePullThroughCacheRule?.additionalActions, [{ action: 'iam:PassRole', resource: { member: 'customRoleArn' }, whenMember: 'customRoleArn' }]);
    assert.deepEqual(
      OPERATIONS.ecr.CreateRepositoryCreationTemplate?.additionalActions?.map(({ action }) => action),
      ['ecr:CreateRepository', 'ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy', 'iam:PassRole'],
    );
  });

  test('resource ARNs and targets', () => {
    assert.equal(resourceArn('ecr', 'repository', { region: 'eu-west-1', accountId: '123456789012', repositoryName: 'team/app' }), 'arn:aws:ecr:eu-west-1:123456789012:repository/team/app');
    assert.equal(resourceArn('ecr', '*', { region: 'eu-west-1', accountId: '123456789012' }), '*');
    assert.equal(resourceArn('ecr-public', 'repository', { region: 'us-east-1', accountId: '123456789012', repositoryName: 'app' }), 'arn:aws:ecr-public::123456789012:repository/app');
    assert.equal(resourceArn('ecr-public', 'registry', { region: 'us-east-1', accountId: '123456789012' }), 'arn:aws:ecr-public::123456789012:registry/123456789012');
    assert.throws(() => resourceArn('ecr', 'repository', { region: 'eu-west-1', accountId: '123456789012' }), RangeError);
    assert.throws(() => resourceArn('ecr', 'registry', { region: 'eu-west-1', accountId: '123456789012' }), RangeError);
    assert.equal(serviceForTarget('AmazonEC2ContainerRegistry_V20150921'), 'ecr');
    assert.equal(serviceForTarget('SpencerFrontendService'), 'ecr-public');
    assert.equal(serviceForTarget('DynamoDB_20120810'), undefined);
  });
});

// ---------------------------------------------------------------------------
// Generated types
// ---------------------------------------------------------------------------

describe('typed operations', () => {
  test('operation names are checked against the model', () => {
    assert.equal(isOperationName('ecr', 'CreateRepository'), true);
    assert.equal(isOperationName('ecr', 'DescribeRegistries'), false);
    assert.equal(isOperationName('ecr-public', 'DescribeRegistries'), true);
    assert.equal(isOperationName('ecr', 'toString'), false);
  });

  test('validated input carries the generated input type', () => {
    const result = validateOperationInput('ecr', 'CreateRepository', { repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE', tags: [{ Key: 'a', Value: 'b' }] });
    assert.ok(result.ok);
    const name: string = result.input.repositoryName;
    const mutability: 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION' | undefined = result.input.imageTagMutability;
    assert.deepEqual([name, mutability, result.input.tags?.[0]?.Key], ['team/app', 'IMMUTABLE', 'a']);
    const part = validateOperationInput('ecr', 'UploadLayerPart', { repositoryName: 'ok', uploadId: UPLOAD_ID, partFirstByte: 0, partLastByte: 1, layerPartBlob: 'aGk=' });
    assert.ok(part.ok);
    const bytes: Buffer = part.input.layerPartBlob;
    assert.equal(bytes.toString(), 'hi');
  });

  test('a handler table is typed per operation, and its results serialize', async () => {
    const handlers: Pick<OperationHandlers<'ecr', { accountId: string }>, 'CreateRepository' | 'TagResource'> = {
      CreateRepository: async (input, context) => ({
        repository: { repositoryName: input.repositoryName, registryId: context.accountId, createdAt: new Date(1718000000500), imageTagMutability: input.imageTagMutability ?? 'MUTABLE' },
      }),
      TagResource: async () => ({}),
    };
    const input = validateOperationInput('ecr', 'CreateRepository', { repositoryName: 'team/app' });
    assert.ok(input.ok);
    const output = await handlers.CreateRepository(input.input, { accountId: '123456789012' });
    assert.deepEqual(serializeOutput(ECR_MODEL, 'CreateRepository', output), {
      repository: { registryId: '123456789012', repositoryName: 'team/app', createdAt: 1718000000.5, imageTagMutability: 'MUTABLE' },
    });
    const wrong: Pick<OperationHandlers<'ecr', null>, 'CreateRepository'> = {
      // @ts-expect-error timestamps are Dates, not strings
      CreateRepository: async () => ({ repository: { createdAt: '2024-06-10' } }),
    };
    assert.ok(wrong);
  });
});
