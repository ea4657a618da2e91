/**
 * Known IAM actions for the service prefixes Berth validates (`ecr`, `ecr-public`, `iam`, `sts`).
 *
 * Sources: the botocore service models (one IAM action per API operation — ECR 2015-09-21 has 58
 * operations, ECR Public 2020-10-30 has 23, STS 2011-06-15 and IAM 2010-05-08 as listed) plus the
 * permission-only actions documented in the Service Authorization Reference
 * ("Actions, resources, and condition keys for Amazon Elastic Container Registry" and the STS/IAM
 * pages) and in /work/shared/reference/ecr.md §5.1.
 *
 * Action names are matched case-insensitively (IAM: "Action … values are case-insensitive").
 */

/** The 58 ECR API operations (botocore `ecr/2015-09-21`). */
export const ECR_API_ACTIONS: readonly string[] = [
  'BatchCheckLayerAvailability', 'BatchDeleteImage', 'BatchGetImage', 'BatchGetRepositoryScanningConfiguration',
  'CompleteLayerUpload', 'CreatePullThroughCacheRule', 'CreateRepository', 'CreateRepositoryCreationTemplate',
  'DeleteLifecyclePolicy', 'DeletePullThroughCacheRule', 'DeleteRegistryPolicy', 'DeleteRepository',
  'DeleteRepositoryCreationTemplate', 'DeleteRepositoryPolicy', 'DeleteSigningConfiguration',
  'DeregisterPullTimeUpdateExclusion', 'DescribeImageReplicationStatus', 'DescribeImageScanFindings',
  'DescribeImageSigningStatus', 'DescribeImages', 'DescribePullThroughCacheRules', 'DescribeRegistry',
  'DescribeRepositories', 'DescribeRepositoryCreationTemplates', 'GetAccountSetting', 'GetAuthorizationToken',
  'GetDownloadUrlForLayer', 'GetLifecyclePolicy', 'GetLifecyclePolicyPreview', 'GetRegistryPolicy',
  'GetRegistryScanningConfiguration', 'GetRepositoryPolicy', 'GetSigningConfiguration', 'InitiateLayerUpload',
  'ListImageReferrers', 'ListImages', 'ListPullTimeUpdateExclusions', 'ListTagsForResource', 'PutAccountSetting',
  'PutImage', 'PutImageScanningConfiguration', 'PutImageTagMutability', 'PutLifecyclePolicy', 'PutRegistryPolicy',
  'PutRegistryScanningConfiguration', 'PutReplicationConfiguration', 'PutSigningConfiguration',
  'RegisterPullTimeUpdateExclusion', 'SetRepositoryPolicy', 'StartImageScan', 'StartLifecyclePolicyPreview',
  'TagResource', 'UntagResource', 'UpdateImageStorageClass', 'UpdatePullThroughCacheRule',
  'UpdateRepositoryCreationTemplate', 'UploadLayerPart', 'ValidatePullThroughCacheRule',
];

/** ECR permission-only actions (no API operation of that name). */
export const ECR_PERMISSION_ONLY_ACTIONS: readonly string[] = ['BatchImportUpstreamImage', 'GetImageCopyStatus', 'ReplicateImage'];

/** Every action valid after the `ecr:` prefix. */
export const ECR_ACTIONS: readonly string[] = [...ECR_API_ACTIONS, ...ECR_PERMISSION_ONLY_ACTIONS];

/** The 23 ECR Public API operations (botocore `ecr-public/2020-10-30`). */
export const ECR_PUBLIC_ACTIONS: readonly string[] = [
  'BatchCheckLayerAvailability', 'BatchDeleteImage', 'CompleteLayerUpload', 'CreateRepository', 'DeleteRepository',
  'DeleteRepositoryPolicy', 'DescribeImageTags', 'DescribeImages', 'DescribeRegistries', 'DescribeRepositories',
  'GetAuthorizationToken', 'GetRegistryCatalogData', 'GetRepositoryCatalogData', 'GetRepositoryPolicy',
  'InitiateLayerUpload', 'ListTagsForResource', 'PutImage', 'PutRegistryCatalogData', 'PutRepositoryCatalogData',
  'SetRepositoryPolicy', 'TagResource', 'UntagResource', 'UploadLayerPart',
];

/** STS API operations plus the permission-only `GetServiceBearerToken`, `TagSession`, `SetSourceIdentity`, `SetContext`. */
export const STS_ACTIONS: readonly string[] = [
  'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'AssumeRoot', 'DecodeAuthorizationMessage',
  'GetAccessKeyInfo', 'GetCallerIdentity', 'GetDelegatedAccessToken', 'GetFederationToken', 'GetSessionToken',
  'GetWebIdentityToken',
  'GetServiceBearerToken', 'SetContext', 'SetSourceIdentity', 'TagSession',
];

/** IAM API operations plus permission-only actions (`PassRole`, the CloudFront public-key and STS-endpoint actions). */
export const IAM_ACTIONS: readonly string[] = [
  'AcceptDelegationRequest', 'AddClientIDToOpenIDConnectProvider', 'AddRoleToInstanceProfile', 'AddUserToGroup',
  'AssociateDelegationRequest', 'AttachGroupPolicy', 'AttachRolePolicy', 'AttachUserPolicy', 'ChangePassword',
  'CreateAccessKey', 'CreateAccountAlias', 'CreateDelegationRequest', 'CreateGroup', 'CreateInstanceProfile',
  'CreateLoginProfile', 'CreateOpenIDConnectProvider', 'CreatePolicy', 'CreatePolicyVersion', 'CreateRole',
  'CreateSAMLProvider', 'CreateServiceLinkedRole', 'CreateServiceSpecificCredential', 'CreateUser',
  'CreateVirtualMFADevice', 'DeactivateMFADevice', 'DeleteAccessKey', 'DeleteAccountAlias',
  'DeleteAccountPasswordPolicy', 'DeleteGroup', 'DeleteGroupPolicy', 'DeleteInstanceProfile', 'DeleteLoginProfile',
  'DeleteOpenIDConnectProvider', 'DeletePolicy', 'DeletePolicyVersion', 'DeleteRole',
  'DeleteRolePermissionsBoundary', 'DeleteRolePolicy', 'DeleteSAMLProvider', 'DeleteSSHPublicKey',
  'DeleteServerCertificate', 'DeleteServiceLinkedRole', 'DeleteServiceSpecificCredential',
  'DeleteSigningCertificate', 'DeleteUser', 'DeleteUserPermissionsBoundary', 'DeleteUserPolicy',
  'DeleteVirtualMFADevice', 'DetachGroupPolicy', 'DetachRolePolicy', 'DetachUserPolicy',
  'DisableOrganizationsRootCredentialsManagement', 'DisableOrganizationsRootSessions',
  'DisableOutboundWebIdentityFederation', 'EnableMFADevice', 'EnableOrganizationsRootCredentialsManagement',
  'EnableOrganizationsRootSessions', 'EnableOutboundWebIdentityFederation', 'GenerateCredentialReport',
  'GenerateOrganizationsAccessReport', 'GenerateServiceLastAccessedDetails', 'GetAccessKeyLastUsed',
  'GetAccountAuthorizationDetails', 'GetAccountPasswordPolicy', 'GetAccountSummary', 'GetContextKeysForCustomPolicy',
  'GetContextKeysForPrincipalPolicy', 'GetCredentialReport', 'GetDelegationRequest', 'GetGroup', 'GetGroupPolicy',
  'GetHumanReadableSummary', 'GetInstanceProfile', 'GetLoginProfile', 'GetMFADevice', 'GetOpenIDConnectProvider',
  'GetOrganizationsAccessReport', 'GetOutboundWebIdentityFederationInfo', 'GetPolicy', 'GetPolicyVersion', 'GetRole',
  'GetRolePolicy', 'GetSAMLProvider', 'GetSSHPublicKey', 'GetServerCertificate', 'GetServiceLastAccessedDetails',
  'GetServiceLastAccessedDetailsWithEntities', 'GetServiceLinkedRoleDeletionStatus', 'GetUser', 'GetUserPolicy',
  'ListAccessKeys', 'ListAccountAliases', 'ListAttachedGroupPolicies', 'ListAttachedRolePolicies',
  'ListAttachedUserPolicies', 'ListDelegationRequests', 'ListEntitiesForPolicy', 'ListGroupPolicies', 'ListGroups',
  'ListGroupsForUser', 'ListInstanceProfileTags', 'ListInstanceProfiles', 'ListInstanceProfilesForRole',
  'ListMFADeviceTags', 'ListMFADevices', 'ListOpenIDConnectProviderTags', 'ListOpenIDConnectProviders',
  'ListOrganizationsFeatures', 'ListPolicies', 'ListPoliciesGrantingServiceAccess', 'ListPolicyTags',
  'ListPolicyVersions', 'ListRolePolicies', 'ListRoleTags', 'ListRoles', 'ListSAMLProviderTags', 'ListSAMLProviders',
  'ListSSHPublicKeys', 'ListServerCertificateTags', 'ListServerCertificates', 'ListServiceSpecificCredentials',
  'ListSigningCertificates', 'ListUserPolicies', 'ListUserTags', 'ListUsers', 'ListVirtualMFADevices',
  'PutGroupPolicy', 'PutRolePermissionsBoundary', 'PutRolePolicy', 'PutUserPermissionsBoundary', 'PutUserPolicy',
  'RejectDelegationRequest', 'RemoveClientIDFromOpenIDConnectProvider', 'RemoveRoleFromInstanceProfile',
  'RemoveUserFromGroup', 'ResetServiceSpecificCredential', 'ResyncMFADevice', 'SendDelegationToken',
  'SetDefaultPolicyVersion', 'SetSecurityTokenServicePreferences', 'SimulateCustomPolicy', 'SimulatePrincipalPolicy',
  'TagInstanceProfile', 'TagMFADevice', 'TagOpenIDConnectProvider', 'TagPolicy', 'TagRole', 'TagSAMLProvider',
  'TagServerCertificate', 'TagUser', 'UntagInstanceProfile', 'UntagMFADevice', 'UntagOpenIDConnectProvider',
  'UntagPolicy', 'UntagRole', 'UntagSAMLProvider', 'UntagServerCertificate', 'UntagUser', 'UpdateAccessKey',
  'UpdateAccountPasswordPolicy', 'UpdateAssumeRolePolicy', 'UpdateDelegationRequest', 'UpdateGroup',
  'UpdateLoginProfile', 'UpdateOpenIDConnectProviderThumbprint', 'UpdateRole', 'UpdateRoleDescription',
  'UpdateSAMLProvider', 'UpdateSSHPublicKey', 'UpdateServerCertificate', 'UpdateServiceSpecificCredential',
  'UpdateSigningCertificate', 'UpdateUser', 'UploadSSHPublicKey', 'UploadServerCertificate',
  'UploadSigningCertificate',
  'PassRole', 'DeleteCloudFrontPublicKey', 'GetCloudFrontPublicKey', 'ListCloudFrontPublicKeys',
  'ListSTSRegionalEndpointsStatus', 'UpdateCloudFrontPublicKey', 'UploadCloudFrontPublicKey',
];

/** Known actions by (lower-case) service prefix; a prefix not in this map is not validated. */
export const KNOWN_SERVICE_ACTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['ecr', ECR_ACTIONS],
  ['ecr-public', ECR_PUBLIC_ACTIONS],
  ['sts', STS_ACTIONS],
  ['iam', IAM_ACTIONS],
]);
