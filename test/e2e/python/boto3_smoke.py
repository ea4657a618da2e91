"""A smoke test of the main ECR operations with boto3, a third independent client.

Usage: python3 boto3_smoke.py <endpoint-url>; credentials from the environment.
The image `smoke/app:v1` must already be in the registry (pushed over /v2/).
Prints one JSON object with what each call returned; exits non-zero on the first failure.
"""
import base64
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1")
results = {}


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as err:
        got = err.response["Error"]["Code"]
        if got != code:
            raise AssertionError(f"{call.__name__}: expected {code}, got {got}")
        return got
    raise AssertionError(f"{call.__name__}: expected {code}, got success")


created = ecr.create_repository(repositoryName="smoke/new", imageTagMutability="IMMUTABLE")
results["create_repository"] = created["repository"]["repositoryUri"]
results["create_repository_again"] = expect_error("RepositoryAlreadyExistsException", ecr.create_repository, repositoryName="smoke/new")
names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
assert "smoke/new" in names and "smoke/app" in names, names
results["describe_repositories"] = sorted(names)

token = ecr.get_authorization_token()["authorizationData"][0]
assert base64.b64decode(token["authorizationToken"]).startswith(b"AWS:")
results["get_authorization_token_expires"] = token["expiresAt"].isoformat()

listed = ecr.list_images(repositoryName="smoke/app")["imageIds"]
assert [i.get("imageTag") for i in listed] == ["v1"], listed
digest = listed[0]["imageDigest"]
details = ecr.describe_images(repositoryName="smoke/app")["imageDetails"]
assert details[0]["imageDigest"] == digest and details[0]["imageSizeInBytes"] > 0, details
results["describe_images"] = {"digest": digest, "size": details[0]["imageSizeInBytes"]}

got = ecr.batch_get_image(repositoryName="smoke/app", imageIds=[{"imageTag": "v1"}, {"imageTag": "missing"}])
assert got["images"][0]["imageId"]["imageDigest"] == digest
assert got["failures"][0]["failureCode"] == "ImageNotFound", got["failures"]
manifest = got["images"][0]["imageManifest"]
results["batch_get_image"] = {"images": len(got["images"]), "failures": [f["failureCode"] for f in got["failures"]]}

put = ecr.put_image(repositoryName="smoke/app", imageManifest=manifest, imageTag="v2")
assert put["image"]["imageId"]["imageDigest"] == digest
results["put_image"] = put["image"]["imageId"]

policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:ListImages"}]})
ecr.set_repository_policy(repositoryName="smoke/app", policyText=policy)
assert ecr.get_repository_policy(repositoryName="smoke/app")["policyText"] == policy
results["repository_policy"] = "set and read back"

lifecycle = json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]})
ecr.put_lifecycle_policy(repositoryName="smoke/app", lifecyclePolicyText=lifecycle)
assert json.loads(ecr.get_lifecycle_policy(repositoryName="smoke/app")["lifecyclePolicyText"]) == json.loads(lifecycle)
results["lifecycle_policy"] = "set and read back"

deleted = ecr.batch_delete_image(repositoryName="smoke/app", imageIds=[{"imageTag": "v2"}])
assert deleted["imageIds"][0]["imageTag"] == "v2" and deleted["failures"] == [], deleted
results["batch_delete_image"] = deleted["imageIds"]

results["delete_repository_not_empty"] = expect_error("RepositoryNotEmptyException", ecr.delete_repository, repositoryName="smoke/app")
ecr.delete_repository(repositoryName="smoke/app", force=True)
ecr.delete_repository(repositoryName="smoke/new")
results["describe_deleted"] = expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=["smoke/app"])
print(json.dumps(results, default=str))
