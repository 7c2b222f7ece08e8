"""SageMaker rules that stock moto 5.2.5 lacks and the project's tests rely on.

`install()` patches moto's SageMaker backend class (``SageMakerModelBackend``)
(and, for rules 10-13, 18, 19, 20 and 22, its response class
``SageMakerResponse`` and ``ModelPackage``) in this process, before the server
starts. Each rule is small and is tested: rules 1-5 in
``test_sagemaker_rules.py``, rule 5's final metrics and the test control in
``test_training_job_control.py``, rules 6-9 and 18 in
``test_model_registry.py``, rules 10-14 and the endpoint test control in
``test_endpoints.py``, rules 19-23 in ``test_destroy.py`` (rule 22 for a job
the local SageMaker runs in ``test_local_sagemaker.py``). Everything else is
stock moto.

What stock moto 5.2.5 does (read from moto/sagemaker/models.py and checked
against a running server):

Training jobs

* ``CreateTrainingJob``, ``CreateModel``, ``CreateEndpointConfig`` and
  ``CreateEndpoint`` accept a name that already exists and silently replace the
  stored resource (``self.training_jobs[name] = job`` and the like).
* ``FakeTrainingJob.__init__`` overwrites ``AlgorithmSpecification.MetricDefinitions``
  with a hard-coded ``[{"Name": "test:dcg", ...}]``, whatever was sent, and sets
  ``FinalMetricDataList`` to a hard-coded ``[{"MetricName": "train:progress",
  "Value": 100.0}]`` that nothing sent asked for.
* Everything else the tests check is echoed by ``DescribeTrainingJob`` as sent:
  ``AlgorithmSpecification.TrainingImage/TrainingInputMode``, ``InputDataConfig``
  (channel names, S3 data source and URI, ``ContentType``, ``InputMode``,
  ``CompressionType``), ``OutputDataConfig`` (``S3OutputPath``, ``KmsKeyId``),
  ``ResourceConfig`` (instance type/count, volume size, ``VolumeKmsKeyId``),
  ``StoppingCondition`` (``MaxRuntimeInSeconds``, ``MaxWaitTimeInSeconds``),
  ``HyperParameters``, ``EnableManagedSpotTraining``, ``CheckpointConfig``,
  ``VpcConfig`` and ``RoleArn``; ``ListTags`` on the training job's ARN returns
  the tags given at creation.
* The job is ``TrainingJobStatus`` ``Completed`` (``SecondaryStatus``
  ``Completed``) as soon as it is created, with ``TrainingStartTime`` =
  ``TrainingEndTime`` = ``CreationTime``. ``ModelArtifacts.S3ModelArtifacts`` is
  ``os.path.join(S3OutputPath, <job name>, "output", "model.tar.gz")``: the
  real layout, ``<S3OutputPath>/<job name>/output/model.tar.gz``, whether or
  not ``S3OutputPath`` ends with one slash (not patched). Nothing is written
  to S3. ``DescribeTrainingJob`` of a missing job: ``ValidationException``
  ``Could not find training job '<arn>'.``

Model registry

* ``CreateModelPackageGroup`` with an existing name silently replaces the group
  (new description, tags and creation time); the packages stay.
* ``DescribeModelPackageGroup`` of a missing group: HTTP 400
  ``ValidationException`` ``ModelPackageGroup <group arn> does not exist.``,
  as SageMaker answers (not patched).
* ``CreateModelPackage`` in a group (versioned) stores and
  ``DescribeModelPackage`` echoes ``InferenceSpecification`` (``Containers``
  with ``Image`` and ``ModelDataUrl``, ``SupportedContentTypes``,
  ``SupportedResponseMIMETypes``, ``SupportedRealtimeInferenceInstanceTypes``),
  ``ModelMetrics``, ``CustomerMetadataProperties``, ``ModelApprovalStatus`` and
  ``ModelPackageDescription``; ``ModelPackageStatus`` is ``Completed``.
  ``ModelPackageVersion`` is 1, 2, ... per group (the count of the group's
  packages plus one, which two concurrent creates could share: see rule 7), and
  ``ModelPackageArn`` is ``arn:aws:sagemaker:<region>:<account>:model-package/<group,
  lower-cased>/<version>``. A missing group: ``ValidationException`` "An error
  ocurred (ValidationException) when calling the CreateModelPackage operation:
  Model Package Group does not exist." (moto's text, typo included).
  ``ClientToken`` is stored and ignored: a retry makes a second version.
  A group given by ARN instead of name is "does not exist".
* ``ListModelPackages`` filters by ``ModelPackageGroupName`` and
  ``ModelApprovalStatus`` and sorts by ``CreationTime`` either way.
* ``UpdateModelPackage`` sets ``ModelApprovalStatus`` (and ``LastModifiedTime``)
  but also overwrites ``CustomerMetadataProperties`` and ``ApprovalDescription``
  with whatever was sent, so an approval alone erases the package's metadata.
* ``ModelLifeCycle`` (``{"Stage", "StageStatus", "StageDescription"?}``) is
  ignored by ``CreateModelPackage`` and ``UpdateModelPackage`` and never in an
  answer (rule 18). A ``ModelLifeCycle`` that is not a JSON object fails in
  moto's request parser with HTTP 500 (SageMaker: ``SerializationException``;
  no SDK sends one).
* ``DescribeModelPackage`` has no ``Tags`` field (nor in SageMaker's API); moto
  stores the ``Tags`` sent, but ``ListTags`` on a model package ARN fails with
  HTTP 500 (moto splits the ARN's resource part on "/" into exactly two parts).
  SageMaker's API reference says that a versioned package "uses the tags
  associated with the model group" and that a tag argument cannot be supplied
  with ``ModelPackageGroupName``; moto accepts it.

Models, endpoint configurations, endpoints

* ``CreateModel`` stores and ``DescribeModel`` echoes ``Containers`` (or
  ``PrimaryContainer``) with ``ModelPackageName`` as sent, ``ExecutionRoleArn``
  and ``VpcConfig``; ``ListTags`` on the model ARN answers its tags. Moto does
  not check that the model package exists. But it drops
  ``EnableNetworkIsolation`` (``DescribeModel`` always says ``false``) and
  answers ``{}``/``[]`` for a ``PrimaryContainer``, ``Containers`` or
  ``VpcConfig`` that was not sent (rule 12).
* ``CreateEndpointConfig`` stores and ``DescribeEndpointConfig`` echoes
  ``ProductionVariants`` (``InstanceType`` + ``InitialInstanceCount``, or
  ``ServerlessConfig`` with ``MemorySizeInMB`` and ``MaxConcurrency``),
  ``DataCaptureConfig`` (including its ``KmsKeyId`` and ``CaptureOptions``) and
  ``KmsKeyId``; tags via ``ListTags``. ``MemorySizeInMB`` must be one of
  1024-6144 in steps of 1024, a variant's model must exist. An absent
  ``DataCaptureConfig`` comes back as ``{}`` (rule 13), and ``InstanceType``
  is checked against a 2022 list of 66 types that lacks e.g. ``ml.g5.*`` and
  ``ml.m6i.*`` (rule 14).
* ``CreateEndpoint`` makes the endpoint ``InService`` at once (SageMaker:
  ``Creating`` for minutes). ``DescribeEndpoint`` has ``ProductionVariants``
  with ``Current/DesiredInstanceCount`` (or ``Current/DesiredServerlessConfig``;
  weights only when ``InitialVariantWeight`` was sent), and the configuration's
  ``DataCaptureConfig`` as it was sent rather than a
  ``DataCaptureConfigSummary``, ``{}`` when there is none (rule 13).
* A missing endpoint, endpoint configuration or model: ``ValidationException``
  ``Could not find endpoint '<arn>'.`` and the like, single-quoted; SageMaker
  double-quotes the ARN (rule 11).
* ``DeleteEndpoint`` deletes the endpoint whatever its status (SageMaker
  refuses one that is ``Creating``: "Cannot update in-progress endpoint";
  rule 23).
* ``DeleteModelPackage``, ``DeleteModelPackageGroup`` and ``StopTrainingJob``
  are not implemented: HTTP 500 (rules 19, 20 and 22).
* ``UpdateEndpoint`` is not implemented: HTTP 500 (rule 10).
* ``ListModelPackages`` pages with ``MaxResults``/``NextToken`` over the
  filtered, sorted list (``ModelApprovalStatus``, ``SortBy=CreationTime``,
  ``SortOrder=Descending``); a token used with other parameters is
  ``InvalidToken``.

Application Auto Scaling (not patched): ``RegisterScalableTarget`` for
``endpoint/<name>/variant/<variant>`` and ``sagemaker:variant:DesiredInstanceCount``
works, a second registration updates the capacities, ``PutScalingPolicy``
(``TargetTrackingScaling``) is echoed by ``DescribeScalingPolicies``. Moto
checks neither that the endpoint and variant exist nor that the target is
registered before a policy is put (AWS answers ``ValidationException`` and
``ObjectNotFoundException``).

Known gaps left alone (the tests do not rely on them): ``ClientToken`` is
ignored everywhere except ``CreateModelPackage``; ``UpdateEndpoint`` ignores
``RetainAllVariantProperties`` and ``ExcludeRetainedVariantProperties`` and
does not check the restrictions of serverless endpoints.

Rules added here:

1. Training job names are unique (per account and region). A second
   ``CreateTrainingJob`` with an existing name fails with HTTP 400
   ``ResourceInUse``, "Training job names must be unique within an AWS account
   and region, and a training job with this name already exists (<arn>)", as
   SageMaker answers; the first job is left untouched. The project's trigger
   relies on this to make a retried event harmless.
2. Model names are unique: ``ValidationException``
   ``Cannot create already existing model "<arn>".``
3. Endpoint configuration names are unique: ``ValidationException``
   ``Cannot create already existing endpoint configuration "<arn>".``
4. Endpoint names are unique: ``ValidationException``
   ``Cannot create already existing endpoint "<arn>".``
5. ``DescribeTrainingJob`` echoes ``AlgorithmSpecification.MetricDefinitions``
   as sent (and omits it when none was sent) instead of moto's hard-coded
   metric, as SageMaker does for a custom training image; and
   ``FinalMetricDataList`` starts empty instead of moto's made-up
   ``train:progress`` metric. A test sets the final metrics, the status and the
   failure reason of a job through the launcher's test-control endpoint
   (``control.py``), which calls ``set_training_job_state`` below.
6. Model package group names are unique: ``ValidationException``
   ``Model Package Group already exists: <group arn>``; the first group is left
   untouched.
7. ``CreateModelPackage`` honours ``ClientToken`` (per account and region, for
   the emulator's lifetime): a repeated token answers the ``ModelPackageArn``
   of the first call and creates nothing, as SageMaker does for an idempotent
   retry; the same token with a different ``ModelPackageGroupName`` (or
   ``ModelPackageName``) is a ``ValidationException`` "ClientToken <token> was
   already used with different parameters ...". A create that fails records no
   token. A token longer than 36 characters or with a character outside
   ``[a-zA-Z0-9-]`` is a ``ValidationException`` "1 validation error detected:
   Value '<token>' at 'clientToken' failed to satisfy constraint: ...", as
   SageMaker's API model constrains it (stock moto and the Rust SDK check
   neither). The SDKs fill in a random token when none is set
   (``idempotencyToken``), so only a token the caller derives makes a retry
   idempotent. The whole create runs under the rules' lock, so concurrent
   creates in one group get distinct versions. ``ModelPackageGroupName`` may also be the
   group's ARN, as in SageMaker.
8. ``UpdateModelPackage`` adds the ``CustomerMetadataProperties`` sent to the
   package's (``CustomerMetadataPropertiesToRemove`` removes keys) and keeps
   ``ApprovalDescription`` and ``ModelApprovalStatus`` when none is sent,
   instead of overwriting them (moto sets an unsent status to none).
9. ``ListTags``/``AddTags``/``DeleteTags`` accept a model package ARN
   (``.../model-package/<group>/<version>``): they answer the tags sent with
   ``CreateModelPackage`` (none if none were sent) instead of HTTP 500.
   (Rule 18, a model package's ``ModelLifeCycle``, is at the end.)

10. ``UpdateEndpoint`` exists. In this order: the ``DeploymentConfig`` is
    checked against the API model (required members, enums, numeric ranges,
    list and string lengths and string patterns, e.g. ``AlarmName``'s 1-255
    characters, not blank), as SageMaker's "N validation error(s) detected:
    Value '<v>' at 'deploymentConfig.<path>' failed to satisfy constraint: ..."
    (the Rust SDK checks none of these), and a ``CANARY`` without ``CanarySize`` or a
    ``LINEAR`` without ``LinearStepSize`` is refused (the emulator's wording:
    "TrafficRoutingConfiguration CanarySize is required when Type is CANARY.");
    a missing endpoint is ``Could not find endpoint "<arn>".``, a missing
    configuration ``Could not find endpoint configuration "<arn>".``; an
    endpoint in ``Failed`` is ``Cannot update failed endpoint "<arn>".``, in any
    other status but ``InService`` ``Cannot update in-progress endpoint
    "<arn>".`` (all ``ValidationException``, HTTP 400). Otherwise the update
    completes at once: the endpoint takes the new ``EndpointConfigName``, its
    variants and data capture, stays ``InService``, loses its
    ``FailureReason``, and records the ``DeploymentConfig`` as sent (kept when
    none is sent with ``RetainDeploymentConfig=true``, else none), which
    ``DescribeEndpoint`` returns as ``LastDeploymentConfig``, as SageMaker
    does. The answer is ``{"EndpointArn"}``. The test control (``control.py``)
    reads an endpoint's status, configuration, last ``DeploymentConfig`` and
    number of updates, and sets its status and failure reason
    (``get_endpoint_state``/``set_endpoint_state`` below); it can also hold
    updates (and creates) for a while and complete them by itself, with
    state-change events (``UpdateSeconds``, ``UpdateOutcome``, the region's
    defaults: control.py's docstring).
11. "Could not find ..." for an endpoint, endpoint configuration or model
    (``DescribeEndpoint``, ``DeleteEndpoint``, ``DescribeEndpointConfig``,
    ``DeleteEndpointConfig``, ``CreateEndpoint``, ``CreateEndpointConfig``,
    ``DescribeModel``) double-quotes the ARN, as SageMaker does: ``Could not
    find endpoint "<arn>".``
12. ``CreateModel`` stores ``EnableNetworkIsolation``; ``DescribeModel`` leaves
    out ``PrimaryContainer``, ``Containers`` and ``VpcConfig`` when they were
    not sent (the Rust SDK would read ``{}`` as a present, empty value).
13. ``DescribeEndpointConfig`` leaves out a ``DataCaptureConfig`` that was not
    sent; ``DescribeEndpoint`` answers a ``DataCaptureConfigSummary``
    (``EnableCapture``, ``CaptureStatus`` ``Started``/``Stopped``,
    ``CurrentSamplingPercentage`` = the initial percentage,
    ``DestinationS3Uri``, ``KmsKeyId`` when set), or none.
14. A variant's ``InstanceType`` is checked against the API model's list of
    the pinned botocore (moto's message, a longer list).
15. ``AddTags`` overwrites the value of a key the resource already has, as
    SageMaker does ("adds or overwrites"); stock moto appends a second tag
    with the same key. The deploy stage re-tags its endpoint with the version
    it serves after every update.
16. ``DescribeTrainingJob`` of a missing job answers as SageMaker does: HTTP
    400 ``ValidationException`` ``Requested resource not found.`` (not the
    ``ResourceNotFound`` its API model declares: aws/aws-sdk#165); stock moto
    says ``Could not find training job '<arn>'.``
17. Tag operations (``ListTags``, ``AddTags``, ``DeleteTags``) on the ARN of a
    resource that does not exist answer HTTP 400 ``ValidationException``
    ``Resource does not exist.``, as SageMaker does; stock moto fails with an
    ``AttributeError`` (HTTP 500). The inference API's ``GET /model`` reads the
    endpoint's tags before any endpoint exists.
18. A model package's ``ModelLifeCycle`` (``{"Stage", "StageStatus",
    "StageDescription"?}``) is kept: ``CreateModelPackage`` stores it (a
    repeated ``ClientToken``, rule 7, changes nothing), ``UpdateModelPackage``
    replaces it whole when one is sent and keeps it when none is (as rule 8
    keeps the metadata: an approval alone leaves it), and
    ``DescribeModelPackage`` and every ``ListModelPackages`` summary
    (``ModelPackageSummaryList[].ModelLifeCycle``) answer it, leaving it out
    while none was ever set. It is checked against the API model first:
    ``Stage`` and ``StageStatus`` required, 1-63 characters matching
    ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`` (letters and digits, single or runs
    of hyphens between them), ``StageDescription`` at most 1024 characters
    matching ``.{0,1024}`` (so no line break, as AWS matches patterns like
    Java). Otherwise ``ValidationException`` "N validation error(s) detected:
    Value '<v>' at 'modelLifeCycle.stage' failed to satisfy constraint: Member
    must satisfy regular expression pattern: ..." (or "Member must have length
    less than or equal to 63", "Value null at 'modelLifeCycle.stageStatus'
    failed to satisfy constraint: Member must not be null"), and nothing
    changes; a member that is not a string: "ModelLifeCycle must be an object
    whose Stage, StageStatus and StageDescription are strings." (the
    emulator's wording).

19. ``DeleteModelPackage`` exists (stock moto: HTTP 500). ``ModelPackageName``
    is the version's ARN (or an unversioned package's name); the package is
    gone from ``DescribeModelPackage``, ``ListModelPackages`` and ``ListTags``.
    A package that does not exist: ``ValidationException`` ``Model package
    <name> not found`` (moto's words for ``DescribeModelPackage``). A
    ``ClientToken`` that created it keeps answering its ARN (rule 7 records
    tokens for the emulator's lifetime).
20. ``DeleteModelPackageGroup`` exists (stock moto: HTTP 500), by name or ARN.
    A group that does not exist: ``ValidationException`` ``ModelPackageGroup
    <group arn> does not exist.`` (as ``DescribeModelPackageGroup``); a group
    that still holds versions: HTTP 400 ``ConflictException`` (the one error
    SageMaker's API model declares for it; the message is the emulator's:
    ``Model Package Group <group arn> still has <n> model package
    version(s): delete them first.``), and nothing changes. Callers delete
    every version first, as SageMaker requires.
21. Version numbers are never reused: a group's next version is one more than
    the highest it ever had (stock moto counts the group's packages, so after
    a delete it would hand out an existing version's ARN again and overwrite
    it). A deleted and re-created group starts again at 1.
22. ``StopTrainingJob`` exists (stock moto: HTTP 500). A missing job:
    ``ValidationException`` ``Requested resource not found.`` (as rule 16); a
    job that is not ``InProgress``: ``ValidationException`` ``The request was
    rejected because the training job is in status <status>.`` (SageMaker's
    words). Otherwise the job is ``Stopped`` (``SecondaryStatus`` ``Stopped``,
    ``TrainingEndTime`` now) at once, as the emulator completes its jobs at
    once; SageMaker shows ``Stopping`` first. (A job the local SageMaker runs
    is ``Stopping`` until its process is killed: ``local_sagemaker.py``.)
23. ``DeleteEndpoint`` of an endpoint that is ``Creating`` fails with
    ``ValidationException`` ``Cannot update in-progress endpoint "<arn>".``,
    as SageMaker answers (it deletes such an endpoint only once it is in
    service or failed); the endpoint is left as it is. Every other status is
    deleted at once, as before.

Processing jobs (stock moto: ``CreateProcessingJob`` replaces a job of the
same name, drops ``ProcessingResources`` and ``Environment``, and the job is
``Completed`` at once, with ``ProcessingEndTime`` = its creation time):

24. Processing job names are unique: a second ``CreateProcessingJob`` with an
    existing name fails with HTTP 400 ``ResourceInUse`` (the error SageMaker's
    API model declares; the message is the emulator's, worded as rule 1's:
    "Processing job names must be unique within an AWS account and region,
    and a processing job with this name already exists (<arn>)"); the first
    job is left untouched.
25. ``DescribeProcessingJob`` answers what ``CreateProcessingJob`` sent,
    ``ProcessingResources`` and ``Environment`` included, and a new job is
    ``InProgress`` with neither ``ProcessingStartTime`` nor
    ``ProcessingEndTime``, as in SageMaker until it runs. A test sets its
    status, ``FailureReason`` and ``ExitMessage`` through the test control
    (``control.py``, ``set_processing_job_state`` below); a job whose image is
    a local example runs for real (``local_processing.py``). A request that
    breaks the API model's constraints (required members, enums, ranges,
    lengths, patterns: SageMaker's API layer) is refused first with HTTP 400
    ``ValidationException`` in AWS's "N validation error(s) detected: Value
    ... at '<path>' failed to satisfy constraint: ..." form.
26. ``ListProcessingJobs`` filters, then sorts (``SortBy`` ``CreationTime``,
    ``Name`` or ``Status``; ``SortOrder`` ``Ascending`` or ``Descending``;
    the defaults ``CreationTime``, ``Ascending``), then pages (``MaxResults``,
    default 10, and ``NextToken``), as SageMaker does; each summary has
    ``ExitMessage`` and ``FailureReason`` when the job has them. Stock moto
    ignored the sort and cut the page before filtering, so ``MaxResults=1``
    with ``StatusEquals`` could answer nothing while a job matched.
27. ``StopProcessingJob``: a missing job is moto's ``ValidationException``
    ``Could not find processing job '<arn>'.``; a job that is not
    ``InProgress``: ``ValidationException`` ``The request was rejected
    because the processing job is in status <status>.`` (worded as
    SageMaker's answer for training jobs); otherwise ``Stopped`` at once,
    with ``ProcessingEndTime`` (a local job: ``Stopping`` until its program
    is killed, then ``Stopped``, with its state-change event).

The check and the insert of rules 1-4 and 6-7, rule 10's checks and update,
rule 18's store and rules 19-23 run under one lock: moto's server is threaded,
and two concurrent creates of one name (or one token) must not both succeed.
"""

from __future__ import annotations

import copy
import datetime
import functools
import inspect
import json
import re
import threading
from typing import Any, Callable

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ConflictException, ResourceInUseException, ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, ModelPackage, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

_LOCK = threading.RLock()
_MARK = "_project_emulator_rule"
# Rule 7's record, an attribute of each backend (one per account and region):
# {client token: ((group name, package name), model package ARN)}.
_CLIENT_TOKENS = "_project_emulator_client_tokens"
_CLIENT_TOKEN = re.compile(r"[a-zA-Z0-9-]+")
_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[^:]*:[0-9]{12}:model-package-group/(.+)$")


def _bind(original: Callable[..., Any], args: tuple, kwargs: dict) -> inspect.BoundArguments:
    """The call's arguments by parameter name, however the caller passed them."""
    return inspect.signature(original).bind(*args, **kwargs)


def _arguments(original: Callable[..., Any], args: tuple, kwargs: dict) -> dict:
    return _bind(original, args, kwargs).arguments


def _marked(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _MARK, True)
    return function


def _unique_name(
    name_param: str,
    store: Callable[[SageMakerModelBackend], dict],
    reject: Callable[[SageMakerModelBackend, str, Any], Exception],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wraps a backend ``create_*`` method: an existing name raises ``reject(...)``."""

    def decorate(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def create(*args: Any, **kwargs: Any) -> Any:
            arguments = _arguments(original, args, kwargs)
            backend = arguments["self"]
            name = arguments[name_param]
            with _LOCK:
                existing = store(backend).get(name)
                if existing is not None:
                    raise reject(backend, name, existing)
                return original(*args, **kwargs)

        return _marked(create)

    return decorate


def _training_job_in_use(backend: SageMakerModelBackend, name: str, job: Any) -> Exception:
    return ResourceInUseException(
        message=(
            "Training job names must be unique within an AWS account and region, "
            f"and a training job with this name already exists ({job.arn})"
        )
    )


def _already_existing(kind: str, arn_kind: str) -> Callable[..., Exception]:
    def reject(backend: SageMakerModelBackend, name: str, _existing: Any) -> Exception:
        arn = arn_formatter(arn_kind, name, backend.account_id, backend.region_name)
        return ValidationError(message=f'Cannot create already existing {kind} "{arn}".')

    return reject


def _group_already_exists(backend: SageMakerModelBackend, name: str, group: Any) -> Exception:
    return ValidationError(message=f"Model Package Group already exists: {group.arn}")


def _processing_job_in_use(backend: SageMakerModelBackend, name: str, job: Any) -> Exception:
    return ResourceInUseException(
        message=(
            "Processing job names must be unique within an AWS account and region, "
            f"and a processing job with this name already exists ({job.arn})"
        )
    )


def _processing_job_as_sent(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 25: what moto's create drops, kept; a new job is InProgress."""

    # Not functools.wraps: rule 24 binds the call to this signature, which
    # takes the two members moto's does not.
    def create_processing_job(
        self: SageMakerModelBackend,
        processing_job_name: str,
        processing_resources: Any = None,
        environment: Any = None,
        **kwargs: Any,
    ) -> Any:
        job = original(self, processing_job_name=processing_job_name, **kwargs)
        job.processing_resources = copy.deepcopy(processing_resources)
        job.environment = copy.deepcopy(environment)
        job.processing_job_status = "InProgress"
        job.processing_end_time = None
        job.processing_start_time = None
        job.exit_message = None
        job.failure_reason = None
        return job

    return _marked(create_processing_job)


def _request_errors(operation: str, request: Any) -> list[str]:
    """`_constraint_errors` for a whole request of ``operation``, its members
    named as AWS names them (``processingJobName``, ``appSpecification.imageUri``)."""
    shape = _api_model().operation_model(operation).input_shape
    request = request if isinstance(request, dict) else {}
    errors = [
        f"Value null at '{_lower_first(name)}' failed to satisfy constraint: Member must not be null"
        for name in shape.required_members
        if request.get(name) is None
    ]
    for name, member in shape.members.items():
        if request.get(name) is not None:
            errors += _constraint_errors(member, request[name], _lower_first(name))
    return errors


def _create_processing_job_action(self: SageMakerResponse) -> ActionResult:
    """CreateProcessingJob with every member the API takes (moto's parser
    leaves out ProcessingResources and Environment), checked against the API
    model first (rule 25)."""
    try:
        request = json.loads(self.body or "{}")
    except ValueError:
        request = {}
    errors = _request_errors("CreateProcessingJob", request)
    if errors:
        raise _validation_error(errors)
    job = self.sagemaker_backend.create_processing_job(
        app_specification=self._get_param("AppSpecification"),
        experiment_config=self._get_param("ExperimentConfig"),
        network_config=self._get_param("NetworkConfig"),
        processing_inputs=self._get_param("ProcessingInputs"),
        processing_job_name=self._get_param("ProcessingJobName"),
        processing_output_config=self._get_param("ProcessingOutputConfig"),
        role_arn=self._get_param("RoleArn"),
        stopping_condition=self._get_param("StoppingCondition"),
        tags=self._get_param("Tags"),
        processing_resources=self._get_param("ProcessingResources"),
        environment=self._get_param("Environment"),
    )
    return ActionResult({"ProcessingJobArn": job.arn})


_create_processing_job_action.__name__ = "create_processing_job"

PROCESSING_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
_PROCESSING_SORT = {
    "CreationTime": lambda job: job.creation_time,
    "Name": lambda job: job.processing_job_name,
    "Status": lambda job: job.processing_job_status,
}


def _list_processing_jobs_action(self: SageMakerResponse) -> ActionResult:
    """Rule 26: ListProcessingJobs filtered, sorted, then paged."""
    sort_by = self._get_param("SortBy", "CreationTime")
    sort_order = self._get_param("SortOrder", "Ascending")
    status = self._get_param("StatusEquals")
    max_results = self._get_int_param("MaxResults")
    max_results = 10 if max_results is None else max_results
    errors = []
    for value, member, allowed in (
        (sort_by, "sortBy", list(_PROCESSING_SORT)),
        (sort_order, "sortOrder", ["Ascending", "Descending"]),
        (status, "statusEquals", list(PROCESSING_JOB_STATUSES)),
    ):
        if value is not None and value not in allowed:
            errors.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
    if not 1 <= max_results <= 100:
        errors.append(
            f"Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )
    if errors:
        raise ValidationError(message=f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: {'; '.join(errors)}")
    token = self._get_param("NextToken")
    if token is not None and not token.isdigit():
        raise ValidationError(message=f"Invalid pagination token: {token}")
    start = int(token) if token else 0
    name_contains = self._get_param("NameContains")
    times = {
        key: self._get_param(key)
        for key in ("CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter", "LastModifiedTimeBefore")
    }
    with _LOCK:
        jobs = [
            job
            for job in self.sagemaker_backend.processing_jobs.values()
            if (name_contains is None or name_contains in job.processing_job_name)
            and (status is None or job.processing_job_status == status)
            and (times["CreationTimeAfter"] is None or _epoch(job.creation_time) > _epoch(times["CreationTimeAfter"]))
            and (times["CreationTimeBefore"] is None or _epoch(job.creation_time) < _epoch(times["CreationTimeBefore"]))
            and (times["LastModifiedTimeAfter"] is None or _epoch(job.last_modified_time) > _epoch(times["LastModifiedTimeAfter"]))
            and (times["LastModifiedTimeBefore"] is None or _epoch(job.last_modified_time) < _epoch(times["LastModifiedTimeBefore"]))
        ]
        jobs.sort(key=_PROCESSING_SORT[sort_by], reverse=sort_order == "Descending")
        page = jobs[start : start + max_results]
        summaries = []
        for job in page:
            summary = {
                "ProcessingJobName": job.processing_job_name,
                "ProcessingJobArn": job.arn,
                "CreationTime": job.creation_time,
                "ProcessingEndTime": job.processing_end_time,
                "LastModifiedTime": job.last_modified_time,
                "ProcessingJobStatus": job.processing_job_status,
                "ExitMessage": job.exit_message,
                "FailureReason": job.failure_reason,
            }
            summaries.append({k: v for k, v in summary.items() if v is not None})
    answer: dict[str, Any] = {"ProcessingJobSummaries": summaries}
    if start + max_results < len(jobs):
        answer["NextToken"] = str(start + max_results)
    return ActionResult(answer)


_list_processing_jobs_action.__name__ = "list_processing_jobs"


def _epoch(moment: Any) -> float:
    """Seconds since the epoch: of a number as sent, or of a datetime (moto's
    are naive UTC)."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    return float(moment)


def _stop_processing_job_action(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.stop_processing_job(self._get_param("ProcessingJobName"))
    return EmptyResult()


_stop_processing_job_action.__name__ = "stop_processing_job"


def set_processing_job_state(
    backend: SageMakerModelBackend,
    name: str,
    *,
    status: str | None = None,
    failure_reason: Any = None,
    exit_message: Any = None,
) -> dict[str, Any]:
    """Changes a stored processing job as the test control (and the local
    runner) asks: ``status`` a ProcessingJobStatus (a terminal one sets
    ProcessingEndTime, InProgress sets ProcessingStartTime once);
    ``failure_reason`` and ``exit_message`` strings, or None to leave them
    out. Raises KeyError if the job does not exist; returns the job's
    DescribeProcessingJob answer."""
    with _LOCK:
        job = backend.processing_jobs[name]
        now = utcnow()
        job.failure_reason = failure_reason
        job.exit_message = exit_message
        job.last_modified_time = now
        if status is not None:
            if status == "InProgress" and job.processing_start_time is None:
                job.processing_start_time = now
            if status in ("Completed", "Failed", "Stopped"):
                job.processing_end_time = now
            job.processing_job_status = status
        return copy.deepcopy(job.response_object)


def _processing_job_described_whole(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 25: DescribeProcessingJob under the rules' lock, so that it never
    sees a job half made (moto stores it Completed, rule 25 then makes it
    InProgress) or half changed."""

    @functools.wraps(original)
    def describe_processing_job(self: SageMakerModelBackend, processing_job_name: str) -> Any:
        with _LOCK:
            return copy.deepcopy(original(self, processing_job_name))

    return _marked(describe_processing_job)


def stop_processing_job(self: SageMakerModelBackend, processing_job_name: str) -> None:
    """Rule 27: StopProcessingJob; an InProgress job is Stopped at once (a
    job local_processing.py runs is Stopping until its program is killed)."""
    with _LOCK:
        job = self.processing_jobs.get(processing_job_name)
        if job is None:
            arn = arn_formatter("processing-job", processing_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find processing job '{arn}'.")
        if job.processing_job_status != "InProgress":
            raise ValidationError(
                message=f"The request was rejected because the processing job is in status {job.processing_job_status}."
            )
        set_processing_job_state(self, processing_job_name, status="Stopped")


def _training_job_as_sent(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 5: the AlgorithmSpecification that was sent, and no made-up final metric."""

    @functools.wraps(original)
    def create_training_job(*args: Any, **kwargs: Any) -> Any:
        arguments = _arguments(original, args, kwargs)
        sent = copy.deepcopy(arguments.get("algorithm_specification"))
        job = original(*args, **kwargs)
        if sent is not None:
            job.algorithm_specification = sent
        job.final_metric_data_list = []
        return job

    return _marked(create_training_job)


def _idempotent_model_package(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 7: ClientToken makes CreateModelPackage idempotent."""

    @functools.wraps(original)
    def create_model_package(*args: Any, **kwargs: Any) -> Any:
        bound = _bind(original, args, kwargs)
        arguments = bound.arguments
        backend = arguments["self"]
        group = arguments.get("model_package_group_name")
        if isinstance(group, str):
            by_arn = _GROUP_ARN.match(group)
            if by_arn:
                group = arguments["model_package_group_name"] = by_arn.group(1)
        target = (group, arguments.get("model_package_name"))
        token = arguments.get("client_token")
        if token is not None:
            _check_client_token(token)
        with _LOCK:
            tokens = backend.__dict__.setdefault(_CLIENT_TOKENS, {})
            if token and token in tokens:
                first_target, arn = tokens[token]
                if first_target != target:
                    raise ValidationError(
                        message=(
                            f"ClientToken {token} was already used with different parameters: "
                            f"it created {arn} (ModelPackageGroupName {first_target[0]!r}, "
                            f"ModelPackageName {first_target[1]!r}), this request has "
                            f"ModelPackageGroupName {target[0]!r}, ModelPackageName {target[1]!r}."
                        )
                    )
                return arn
            arn = original(*bound.args, **bound.kwargs)
            if token:
                tokens[token] = (target, arn)
            return arn

    return _marked(create_model_package)


def _check_client_token(token: str) -> None:
    """SageMaker's constraints on ClientToken (1-36 characters of [a-zA-Z0-9-])."""
    constraint = None
    if len(token) > 36:
        constraint = "Member must have length less than or equal to 36"
    elif not _CLIENT_TOKEN.fullmatch(token):
        constraint = "Member must satisfy regular expression pattern: [a-zA-Z0-9-]+"
    if constraint is not None:
        raise ValidationError(
            message=(
                f"1 validation error detected: Value '{token}' at 'clientToken' "
                f"failed to satisfy constraint: {constraint}"
            )
        )


def _update_keeps_unsent(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 8: UpdateModelPackage merges metadata and keeps what was not sent."""

    @functools.wraps(original)
    def update_model_package(*args: Any, **kwargs: Any) -> Any:
        bound = _bind(original, args, kwargs)
        arguments = bound.arguments
        backend = arguments["self"]
        with _LOCK:
            key = arguments["model_package_arn"]
            package = backend.model_packages.get(backend.model_package_name_mapping.get(key, key))
            if package is not None:
                sent = arguments.get("customer_metadata_properties")
                to_remove = arguments.get("customer_metadata_properties_to_remove")
                merged = dict(package.customer_metadata_properties or {})
                merged.update(sent or {})
                keep = merged or sent is not None or to_remove or package.customer_metadata_properties
                arguments["customer_metadata_properties"] = merged if keep else None
                if arguments.get("approval_description") is None:
                    arguments["approval_description"] = package.approval_description
                if arguments.get("model_approval_status") is None:
                    arguments["model_approval_status"] = package.model_approval_status
            return original(*bound.args, **bound.kwargs)

    return _marked(update_model_package)


def _model_package_tags(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 9: tag operations find a model package by its ARN."""

    @functools.wraps(original)
    def get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
        resource = arn.split(":")[-1]
        if resource.startswith("model-package/"):
            package = self.model_packages.get(arn)
            if package is None:
                name = resource.split("/", 1)[1]
                raise ValidationError(message=f"Could not find model-package with name {name}")
            if package.tags is None:
                package.tags = []
            return package
        found = original(self, arn)
        if found is None:
            # Rule 17: stock moto fails with an AttributeError (HTTP 500).
            raise ValidationError(message="Resource does not exist.")
        return found

    return _marked(get_resource_from_arn)


# Rule 18: a model package's ModelLifeCycle, an attribute of each ModelPackage
# (absent: never set). ModelPackage.gen_response_object keeps only the keys it
# lists, so moto would never answer it whatever the attribute's name.
_LIFE_CYCLE = "_project_emulator_model_life_cycle"
_LIFE_CYCLE_MEMBERS = ("Stage", "StageStatus", "StageDescription")


def _model_life_cycle(value: Any) -> dict[str, str] | None:
    """Rule 18: the ModelLifeCycle sent, checked against the API model (None: not
    sent). Raises ValidationError in SageMaker's words."""
    if value is None:
        return None
    if not isinstance(value, dict) or any(
        value.get(key) is not None and not isinstance(value[key], str) for key in _LIFE_CYCLE_MEMBERS
    ):
        # A JSON type SageMaker's parser would refuse before validation (the
        # emulator's wording; the SDKs cannot send it).
        raise ValidationError(
            message="ModelLifeCycle must be an object whose Stage, StageStatus and StageDescription are strings."
        )
    errors = _constraint_errors(_api_model().shape_for("ModelLifeCycle"), value, "modelLifeCycle")
    if errors:
        raise _validation_error(errors)
    return {key: value[key] for key in _LIFE_CYCLE_MEMBERS if value.get(key) is not None}


def _create_records_life_cycle(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 18: CreateModelPackage stores ModelLifeCycle (stock moto ignores it)."""

    @functools.wraps(original)
    def create_model_package(self: SageMakerResponse) -> Any:
        life_cycle = _model_life_cycle(self._get_param("ModelLifeCycle"))
        backend = self.sagemaker_backend
        with _LOCK:  # the new package never shows without it, even for a moment
            before = set(backend.model_packages)
            result = original(self)
            arn = result.result["ModelPackageArn"]
            # A repeated ClientToken (rule 7) answers the first package: unchanged.
            if life_cycle is not None and arn not in before:
                setattr(backend.model_packages[arn], _LIFE_CYCLE, life_cycle)
        return result

    return _marked(create_model_package)


def _update_replaces_life_cycle(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 18: UpdateModelPackage replaces ModelLifeCycle when one is sent and
    keeps it otherwise."""

    @functools.wraps(original)
    def update_model_package(self: SageMakerResponse) -> Any:
        life_cycle = _model_life_cycle(self._get_param("ModelLifeCycle"))
        backend = self.sagemaker_backend
        with _LOCK:
            result = original(self)
            if life_cycle is not None:
                package = backend.model_packages[result.result["ModelPackageArn"]]
                setattr(package, _LIFE_CYCLE, life_cycle)
        return result

    return _marked(update_model_package)


def _answers_life_cycle(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 18: DescribeModelPackage and each ListModelPackages summary have
    ModelLifeCycle once it is set (both build on ModelPackage.gen_response_object)."""

    @functools.wraps(original)
    def gen_response_object(self: Any) -> dict[str, Any]:
        response = original(self)
        life_cycle = getattr(self, _LIFE_CYCLE, None)
        if life_cycle is not None:
            response["ModelLifeCycle"] = dict(life_cycle)
        return response

    return _marked(gen_response_object)


# Rule 5's test control: what control.py's endpoint changes on a training job.
TRAINING_JOB_STATUSES = {
    # TrainingJobStatus: the SecondaryStatus that goes with it
    "InProgress": "Training",
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
}
_UNSET: Any = object()


def set_training_job_state(
    backend: SageMakerModelBackend,
    name: str,
    *,
    status: str | None = None,
    failure_reason: Any = _UNSET,
    final_metrics: list[dict[str, Any]] | None = None,
    model_artifacts: Any = _UNSET,
) -> dict[str, Any]:
    """Changes a stored training job as the test-control endpoint asks.

    ``status``: a TrainingJobStatus; sets the matching SecondaryStatus, sets
    TrainingEndTime (terminal states) or removes it (InProgress, Stopping), and
    removes FailureReason unless ``failure_reason`` is given too.
    ``failure_reason``: a string, or None to remove it.
    ``final_metrics``: [{"MetricName", "Value"}], replaces FinalMetricDataList
    (each gets Timestamp = now).
    ``model_artifacts``: an S3 URI for ModelArtifacts.S3ModelArtifacts, or None
    to remove ModelArtifacts.

    Raises KeyError if the job does not exist. Returns the job's new state.
    """
    with _LOCK:
        job = backend.training_jobs[name]
        now = utcnow()
        if status is not None:
            job.training_job_status = status
            job.secondary_status = TRAINING_JOB_STATUSES[status]
            job.training_end_time = None if status in ("InProgress", "Stopping") else now
            if failure_reason is _UNSET:
                failure_reason = None
        if failure_reason is not _UNSET:
            job.failure_reason = failure_reason
        if final_metrics is not None:
            job.final_metric_data_list = [
                {"MetricName": m["MetricName"], "Value": float(m["Value"]), "Timestamp": now}
                for m in final_metrics
            ]
        if model_artifacts is not _UNSET:
            job.model_artifacts = (
                None if model_artifacts is None else {"S3ModelArtifacts": model_artifacts}
            )
        job.last_modified_time = now
        state: dict[str, Any] = {
            "TrainingJobName": job.training_job_name,
            "TrainingJobArn": job.arn,
            "TrainingJobStatus": job.training_job_status,
            "SecondaryStatus": job.secondary_status,
            "FinalMetricDataList": [
                {"MetricName": m["MetricName"], "Value": m["Value"]}
                for m in job.final_metric_data_list or []
            ],
        }
        if getattr(job, "failure_reason", None) is not None:
            state["FailureReason"] = job.failure_reason
        if job.model_artifacts is not None:
            state["ModelArtifacts"] = dict(job.model_artifacts)
        return state



# --- rules 10-14: endpoints and models ---------------------------------------

# Rule 10: every EndpointStatus SageMaker has; the test control sets any of them.
ENDPOINT_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
# Rule 10's count of UpdateEndpoint calls, an attribute of each FakeEndpoint (moto's
# response builder camel-cases it to a key the DescribeEndpoint output shape lacks,
# so it never reaches a client).
_UPDATE_COUNT = "_project_emulator_update_count"
_NOT_FOUND = re.compile(r"^Could not find (endpoint|endpoint configuration|model) '(.*)'\.$")


@functools.cache
def _api_model() -> Any:
    """botocore's SageMaker API model (the one the pinned boto3 uses)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    """An API model pattern as a Python regular expression (None: one Python
    cannot compile, which is then not checked)."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _length_errors(value: Any, meta: dict[str, Any], path: str) -> list[str]:
    """A list's or a string's ``min``/``max`` length, in AWS's wording."""
    errors = []
    if "min" in meta and len(value) < meta["min"]:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {meta['min']}"
        )
    if "max" in meta and len(value) > meta["max"]:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {meta['max']}"
        )
    return errors


def _constraint_errors(shape: Any, value: Any, path: str) -> list[str]:
    """What SageMaker's API layer says about ``value`` against ``shape``: required
    members, enums, numeric ranges, list and string lengths and string patterns
    (matched whole, as AWS's Java validation does; Python's ``.`` also refuses a
    line feed), in AWS's "Value ... at '<path>' failed to satisfy constraint:
    ..." form."""
    errors: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{path}.{_lower_first(name)}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                errors += _constraint_errors(member, value[name], f"{path}.{_lower_first(name)}")
    elif kind == "list" and isinstance(value, list):
        errors += _length_errors(value, meta, path)
        for index, item in enumerate(value, 1):
            errors += _constraint_errors(shape.member, item, f"{path}.{index}.member")
    elif kind == "string" and shape.enum:
        if value not in shape.enum:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
    elif kind == "string" and isinstance(value, str):
        errors += _length_errors(value, meta, path)
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {meta['pattern']}"
            )
    elif kind in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )
    return errors


def _validation_error(errors: list[str]) -> ValidationError:
    """AWS's "N validation error(s) detected: ...; ..." for `_constraint_errors`."""
    count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected"
    return ValidationError(message=f"{count}: {'; '.join(errors)}")


def _check_deployment_config(deployment_config: dict[str, Any] | None) -> None:
    """Rule 10: the DeploymentConfig checks SageMaker makes before anything else."""
    if deployment_config is None:
        return
    shape = _api_model().operation_model("UpdateEndpoint").input_shape.members["DeploymentConfig"]
    errors = _constraint_errors(shape, deployment_config, "deploymentConfig")
    if errors:
        raise _validation_error(errors)
    routing = (deployment_config.get("BlueGreenUpdatePolicy") or {}).get(
        "TrafficRoutingConfiguration"
    ) or {}
    # Not in the API model; the emulator's own wording.
    for kind, size in (("CANARY", "CanarySize"), ("LINEAR", "LinearStepSize")):
        if routing.get("Type") == kind and routing.get(size) is None:
            raise ValidationError(
                message=f"TrafficRoutingConfiguration {size} is required when Type is {kind}."
            )


def update_endpoint(
    self: SageMakerModelBackend,
    endpoint_name: str,
    endpoint_config_name: str,
    deployment_config: dict[str, Any] | None = None,
    retain_deployment_config: bool | None = None,
) -> str:
    """Rule 10: UpdateEndpoint, which stock moto lacks. Completes at once."""
    _check_deployment_config(deployment_config)
    with _LOCK:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Could not find endpoint "{arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = FakeEndpointConfig.arn_formatter(
                endpoint_config_name, self.account_id, self.region_name
            )
            raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')
        if endpoint.endpoint_status == "Failed":
            raise ValidationError(message=f'Cannot update failed endpoint "{endpoint.arn}".')
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        endpoint.endpoint_config_name = endpoint_config_name
        endpoint.production_variants = endpoint._process_production_variants(
            copy.deepcopy(config.production_variants)
        )
        endpoint.data_capture_config = copy.deepcopy(config.data_capture_config)
        if deployment_config is not None or not retain_deployment_config:
            endpoint.last_deployment_config = copy.deepcopy(deployment_config)
        endpoint.endpoint_status = "InService"
        endpoint.failure_reason = None
        endpoint.last_modified_time = utcnow()
        setattr(endpoint, _UPDATE_COUNT, getattr(endpoint, _UPDATE_COUNT, 0) + 1)
        return endpoint.arn


def _update_endpoint_action(self: SageMakerResponse) -> ActionResult:
    """Rule 10: the UpdateEndpoint action of moto's SageMaker responses."""
    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        deployment_config=self._get_param("DeploymentConfig"),
        retain_deployment_config=self._get_param("RetainDeploymentConfig"),
    )
    return ActionResult({"EndpointArn": arn})


_update_endpoint_action.__name__ = "update_endpoint"


def endpoint_state(endpoint: Any) -> dict[str, Any]:
    """Rule 10's test-control view of an endpoint."""
    state: dict[str, Any] = {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointStatus": endpoint.endpoint_status,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "LastDeploymentConfig": copy.deepcopy(getattr(endpoint, "last_deployment_config", None)),
        "UpdateCount": getattr(endpoint, _UPDATE_COUNT, 0),
    }
    if endpoint.failure_reason is not None:
        state["FailureReason"] = endpoint.failure_reason
    return state


def get_endpoint_state(backend: SageMakerModelBackend, name: str) -> dict[str, Any]:
    """The endpoint's state for the test control. Raises KeyError if it does not exist."""
    with _LOCK:
        return endpoint_state(backend.endpoints[name])


def set_endpoint_state(
    backend: SageMakerModelBackend,
    name: str,
    *,
    status: str | None = None,
    failure_reason: Any = _UNSET,
) -> dict[str, Any]:
    """Changes a stored endpoint as the test-control endpoint asks.

    ``status``: an EndpointStatus; removes FailureReason unless ``failure_reason``
    is given too. ``failure_reason``: a string, or None to remove it. Sets
    LastModifiedTime. Raises KeyError if the endpoint does not exist. Returns the
    endpoint's new state (`endpoint_state`).
    """
    with _LOCK:
        endpoint = backend.endpoints[name]
        if status is not None:
            endpoint.endpoint_status = status
            if failure_reason is _UNSET:
                failure_reason = None
        if failure_reason is not _UNSET:
            endpoint.failure_reason = failure_reason
        endpoint.last_modified_time = utcnow()
        return endpoint_state(endpoint)


def _not_found_double_quoted(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 11: moto's "Could not find <kind> '<arn>'." in SageMaker's words."""

    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except ValidationError as error:
            found = _NOT_FOUND.match(str(getattr(error, "message", "")))
            if found is None:
                raise
            raise ValidationError(message=f'Could not find {found[1]} "{found[2]}".') from None

    return _marked(call)


def _create_model_records_isolation(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 12: CreateModel stores EnableNetworkIsolation (stock moto drops it)."""

    @functools.wraps(original)
    def create_model(self: SageMakerResponse) -> Any:
        isolation = self._get_param("EnableNetworkIsolation")
        with _LOCK:  # the model never shows another value, even for a moment
            result = original(self)
            if isolation is not None:
                model = self.sagemaker_backend._models[self._get_param("ModelName")]
                model.enable_network_isolation = bool(isolation)
        return result

    return _marked(create_model)


def _without_empty(original: Callable[..., Any], *keys: str) -> Callable[..., Any]:
    """Rules 12-13: a Describe answer without the empty ``{}``/``[]`` moto puts in
    for members that were never sent (SageMaker leaves them out)."""

    @functools.wraps(original)
    def describe(self: SageMakerResponse) -> Any:
        result = original(self)
        body = result.result if isinstance(result, ActionResult) else None
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if not (k in keys and v in ({}, []))}
            result = ActionResult(body)
        return result

    return _marked(describe)


def _data_capture_summary(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 13: DescribeEndpoint's DataCaptureConfig is a DataCaptureConfigSummary."""

    @functools.wraps(original)
    def describe_endpoint(self: SageMakerResponse) -> Any:
        result = original(self)
        body = dict(result.result)
        capture = body.pop("DataCaptureConfig", None)
        if capture:
            enabled = bool(capture.get("EnableCapture", False))
            summary = {
                "EnableCapture": enabled,
                "CaptureStatus": "Started" if enabled else "Stopped",
                "CurrentSamplingPercentage": capture.get("InitialSamplingPercentage"),
                "DestinationS3Uri": capture.get("DestinationS3Uri"),
                "KmsKeyId": capture.get("KmsKeyId"),
            }
            body["DataCaptureConfig"] = {k: v for k, v in summary.items() if v is not None}
        return ActionResult(body)

    return _marked(describe_endpoint)


def _validate_instance_type(self: Any, instance_type: str) -> None:
    """Rule 14: ProductionVariant InstanceType against the API model's full list."""
    allowed = _api_model().shape_for("ProductionVariantInstanceType").enum
    if instance_type not in allowed:
        raise ValidationError(
            message=(
                f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
        )


def _training_job_not_found(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 16: SageMaker's words for a training job that does not exist."""

    @functools.wraps(original)
    def describe_training_job(self: SageMakerModelBackend, training_job_name: str) -> Any:
        if training_job_name not in self.training_jobs:
            raise ValidationError(message="Requested resource not found.")
        return original(self, training_job_name)

    return _marked(describe_training_job)


def _add_tags_overwrites(self: SageMakerModelBackend, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rule 15: a key that is already there gets the new value."""
    resource = self._get_resource_from_arn(arn)
    keys = {tag["Key"] for tag in tags}
    resource.tags = [tag for tag in resource.tags if tag["Key"] not in keys] + list(tags)
    return resource.tags


# --- rules 19-23: deleting what the pipeline made, stopping jobs ------------

# Rule 21's record, an attribute of each backend: {group name: highest version it ever had}.
_HIGHEST_VERSIONS = "_project_emulator_highest_versions"


def _group_arn(backend: SageMakerModelBackend, name: str) -> str:
    return arn_formatter("model-package-group", name, backend.account_id, backend.region_name)


def _versions_never_reused(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 21: a new version in a group gets one more than the highest the group
    ever had. Builds the versioned package as moto's create_model_package does,
    with that number; everything else (unversioned packages, moto's own
    refusals) is moto's."""

    @functools.wraps(original)
    def create_model_package(*args: Any, **kwargs: Any) -> Any:
        arguments = _arguments(original, args, kwargs)
        backend = arguments["self"]
        group = arguments.get("model_package_group_name")
        with _LOCK:
            if not group or arguments.get("model_package_name") or group not in backend.model_package_groups:
                return original(*args, **kwargs)
            highest = backend.__dict__.setdefault(_HIGHEST_VERSIONS, {})
            versions = [
                package.model_package_version or 0
                for package in backend.model_packages.values()
                if package.model_package_group_name == group
            ]
            version = max([highest.get(group, 0), *versions]) + 1
            package = ModelPackage(
                model_package_name=group,
                model_package_group_name=group,
                model_package_description=arguments.get("model_package_description"),
                inference_specification=arguments.get("inference_specification"),
                validation_specification=arguments.get("validation_specification"),
                source_algorithm_specification=arguments.get("source_algorithm_specification"),
                certify_for_marketplace=arguments.get("certify_for_marketplace"),
                tags=arguments.get("tags"),
                model_approval_status=arguments.get("model_approval_status"),
                metadata_properties=arguments.get("metadata_properties"),
                model_metrics=arguments.get("model_metrics"),
                customer_metadata_properties=arguments.get("customer_metadata_properties"),
                drift_check_baselines=arguments.get("drift_check_baselines"),
                domain=arguments.get("domain"),
                task=arguments.get("task"),
                sample_payload_url=arguments.get("sample_payload_url"),
                additional_inference_specifications=arguments.get("additional_inference_specifications"),
                model_package_version=version,
                approval_description=None,
                region_name=backend.region_name,
                account_id=backend.account_id,
                client_token=arguments.get("client_token"),
                model_package_type="Versioned",
            )
            highest[group] = version
            backend.model_package_name_mapping[group] = package.arn
            backend.model_package_name_mapping[package.arn] = package.arn
            backend.model_packages[package.arn] = package
            return package.arn

    return _marked(create_model_package)


def delete_model_package(self: SageMakerModelBackend, model_package_name: str) -> None:
    """Rule 19: DeleteModelPackage, by the version's ARN (or a package's name)."""
    with _LOCK:
        arn = self.model_package_name_mapping.get(model_package_name, model_package_name)
        package = self.model_packages.pop(arn, None)
        if package is None:
            raise ValidationError(message=f"Model package {model_package_name} not found")
        for key in [key for key, value in self.model_package_name_mapping.items() if value == arn]:
            del self.model_package_name_mapping[key]
        # A name (a group's, for its versions) keeps naming its newest package, as after a create.
        same_name = [p for p in self.model_packages.values() if p.model_package_name == package.model_package_name]
        if same_name:
            newest = max(same_name, key=lambda p: p.model_package_version or 0)
            self.model_package_name_mapping[package.model_package_name] = newest.arn


def delete_model_package_group(self: SageMakerModelBackend, model_package_group_name: str) -> None:
    """Rule 20: DeleteModelPackageGroup, by name or ARN; refused while it holds versions."""
    by_arn = _GROUP_ARN.match(model_package_group_name)
    name = by_arn.group(1) if by_arn else model_package_group_name
    with _LOCK:
        if name not in self.model_package_groups:
            raise ValidationError(message=f"ModelPackageGroup {_group_arn(self, name)} does not exist.")
        versions = [p for p in self.model_packages.values() if p.model_package_group_name == name]
        if versions:
            raise ConflictException(
                f"Model Package Group {_group_arn(self, name)} still has {len(versions)} "
                "model package version(s): delete them first."
            )
        del self.model_package_groups[name]
        self.__dict__.get(_HIGHEST_VERSIONS, {}).pop(name, None)


def stop_training_job(self: SageMakerModelBackend, training_job_name: str) -> None:
    """Rule 22: StopTrainingJob; an InProgress job is Stopped at once."""
    with _LOCK:
        job = self.training_jobs.get(training_job_name)
        if job is None:
            raise ValidationError(message="Requested resource not found.")
        if job.training_job_status != "InProgress":
            raise ValidationError(
                message=f"The request was rejected because the training job is in status {job.training_job_status}."
            )
        set_training_job_state(self, training_job_name, status="Stopped")


def _deleting_refuses_creating(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 23: DeleteEndpoint refuses an endpoint that is still Creating."""

    @functools.wraps(original)
    def delete_endpoint(self: SageMakerModelBackend, endpoint_name: str, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            endpoint = self.endpoints.get(endpoint_name)
            if endpoint is not None and endpoint.endpoint_status == "Creating":
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            return original(self, endpoint_name, *args, **kwargs)

    return _marked(delete_endpoint)


def _delete_model_package_action(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.delete_model_package(self._get_param("ModelPackageName"))
    return EmptyResult()


def _delete_model_package_group_action(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.delete_model_package_group(self._get_param("ModelPackageGroupName"))
    return EmptyResult()


def _stop_training_job_action(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
    return EmptyResult()


# moto finds an action's method by its snake-case name.
_delete_model_package_action.__name__ = "delete_model_package"
_delete_model_package_group_action.__name__ = "delete_model_package_group"
_stop_training_job_action.__name__ = "stop_training_job"


def install() -> None:
    """Applies the rules to moto's SageMaker backend class. Idempotent."""
    backend = SageMakerModelBackend
    if getattr(backend.create_training_job, _MARK, False):
        return

    # Rule 5 sits inside rule 1, so a rejected duplicate never reaches it.
    backend.create_training_job = _unique_name(  # type: ignore[method-assign]
        "training_job_name", lambda b: b.training_jobs, _training_job_in_use
    )(_training_job_as_sent(backend.create_training_job))
    backend.create_model = _unique_name(  # type: ignore[method-assign]
        "model_name", lambda b: b._models, _already_existing("model", "model")
    )(backend.create_model)
    backend.create_endpoint_config = _unique_name(  # type: ignore[method-assign]
        "endpoint_config_name",
        lambda b: b.endpoint_configs,
        _already_existing("endpoint configuration", "endpoint-config"),
    )(backend.create_endpoint_config)
    backend.create_endpoint = _unique_name(  # type: ignore[method-assign]
        "endpoint_name",
        lambda b: b.endpoints,
        _already_existing("endpoint", "endpoint"),
    )(backend.create_endpoint)
    backend.create_model_package_group = _unique_name(  # type: ignore[method-assign]
        "model_package_group_name",
        lambda b: b.model_package_groups,
        _group_already_exists,
    )(backend.create_model_package_group)
    # Rule 21 sits inside rule 7, so a repeated ClientToken never reaches it.
    backend.create_model_package = _idempotent_model_package(  # type: ignore[method-assign]
        _versions_never_reused(backend.create_model_package)
    )
    backend.update_model_package = _update_keeps_unsent(  # type: ignore[method-assign]
        backend.update_model_package
    )
    backend._get_resource_from_arn = _model_package_tags(  # type: ignore[method-assign]
        backend._get_resource_from_arn
    )
    # Rule 18: ModelLifeCycle.
    SageMakerResponse.create_model_package = _create_records_life_cycle(  # type: ignore[method-assign]
        SageMakerResponse.create_model_package
    )
    SageMakerResponse.update_model_package = _update_replaces_life_cycle(  # type: ignore[method-assign]
        SageMakerResponse.update_model_package
    )
    ModelPackage.gen_response_object = _answers_life_cycle(  # type: ignore[method-assign]
        ModelPackage.gen_response_object
    )

    # Rule 10: UpdateEndpoint.
    backend.update_endpoint = _marked(update_endpoint)  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = _update_endpoint_action  # type: ignore[attr-defined]
    # Rule 11: "Could not find ..." as SageMaker words it. CreateEndpoint reaches
    # describe_endpoint_config, CreateEndpointConfig validate_production_variants.
    for method in (
        "describe_endpoint",
        "delete_endpoint",
        "describe_endpoint_config",
        "delete_endpoint_config",
        "describe_model",
        "validate_production_variants",
    ):
        setattr(backend, method, _not_found_double_quoted(getattr(backend, method)))
    # Rules 12-13: what CreateModel keeps and the Describe answers leave out.
    responses = SageMakerResponse
    responses.create_model = _create_model_records_isolation(responses.create_model)  # type: ignore[method-assign]
    responses.describe_model = _without_empty(  # type: ignore[method-assign]
        responses.describe_model, "PrimaryContainer", "Containers", "VpcConfig"
    )
    responses.describe_endpoint_config = _without_empty(  # type: ignore[method-assign]
        responses.describe_endpoint_config, "DataCaptureConfig"
    )
    responses.describe_endpoint = _data_capture_summary(  # type: ignore[method-assign]
        responses.describe_endpoint
    )
    # Rule 16: a missing training job in SageMaker's words.
    backend.describe_training_job = _training_job_not_found(  # type: ignore[method-assign]
        backend.describe_training_job
    )
    # Rule 15: AddTags overwrites.
    backend.add_tags = _add_tags_overwrites  # type: ignore[method-assign]
    # Rule 14: today's instance types.
    FakeEndpointConfig.validate_instance_type = _validate_instance_type  # type: ignore[method-assign]
    # Rules 19, 20, 22: DeleteModelPackage, DeleteModelPackageGroup, StopTrainingJob.
    backend.delete_model_package = _marked(delete_model_package)  # type: ignore[method-assign]
    backend.delete_model_package_group = _marked(delete_model_package_group)  # type: ignore[attr-defined]
    backend.stop_training_job = _marked(stop_training_job)  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package = _delete_model_package_action  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = _delete_model_package_group_action  # type: ignore[attr-defined]
    SageMakerResponse.stop_training_job = _stop_training_job_action  # type: ignore[attr-defined]
    # Rules 24-25: processing jobs (rule 25 inside rule 24: a duplicate never reaches it).
    backend.create_processing_job = _unique_name(  # type: ignore[method-assign]
        "processing_job_name", lambda b: b.processing_jobs, _processing_job_in_use
    )(_processing_job_as_sent(backend.create_processing_job))
    SageMakerResponse.create_processing_job = _create_processing_job_action  # type: ignore[method-assign]
    SageMakerResponse.list_processing_jobs = _list_processing_jobs_action  # type: ignore[method-assign]
    backend.describe_processing_job = _processing_job_described_whole(  # type: ignore[method-assign]
        backend.describe_processing_job
    )
    # Rule 27: StopProcessingJob.
    backend.stop_processing_job = _marked(stop_processing_job)  # type: ignore[method-assign]
    SageMakerResponse.stop_processing_job = _stop_processing_job_action  # type: ignore[method-assign]
    # Rule 23, around rule 11's wrapper (a missing endpoint is still "Could not find endpoint").
    backend.delete_endpoint = _deleting_refuses_creating(backend.delete_endpoint)  # type: ignore[method-assign]
