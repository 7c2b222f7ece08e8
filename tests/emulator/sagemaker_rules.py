"""SageMaker rules that stock moto 5.2.5 lacks and the project's tests rely on.

`install()` patches moto's SageMaker backend class (``SageMakerModelBackend``)
in this process, before the server starts. Each rule is small and is tested in
``test_sagemaker_rules.py``. Everything else is stock moto.

What stock moto 5.2.5 does (read from moto/sagemaker/models.py and checked
against a running server):

* ``CreateTrainingJob``, ``CreateModel``, ``CreateEndpointConfig`` and
  ``CreateEndpoint`` accept a name that already exists and silently replace the
  stored resource (``self.training_jobs[name] = job`` and the like).
* ``FakeTrainingJob.__init__`` overwrites ``AlgorithmSpecification.MetricDefinitions``
  with a hard-coded ``[{"Name": "test:dcg", ...}]``, whatever was sent.
* Everything else the tests check is echoed by ``DescribeTrainingJob`` as sent:
  ``AlgorithmSpecification.TrainingImage/TrainingInputMode``, ``InputDataConfig``
  (channel names, S3 data source and URI, ``ContentType``, ``InputMode``,
  ``CompressionType``), ``OutputDataConfig`` (``S3OutputPath``, ``KmsKeyId``),
  ``ResourceConfig`` (instance type/count, volume size, ``VolumeKmsKeyId``),
  ``StoppingCondition`` (``MaxRuntimeInSeconds``, ``MaxWaitTimeInSeconds``),
  ``HyperParameters``, ``EnableManagedSpotTraining``, ``CheckpointConfig``,
  ``VpcConfig`` and ``RoleArn``; ``ListTags`` on the training job's ARN returns
  the tags given at creation. The job is ``Completed`` at once.
* Known gaps left alone (the tests do not rely on them): ``ClientToken`` is
  ignored wherever SageMaker takes one, and ``UpdateEndpoint`` is not
  implemented (moto answers HTTP 500).

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
   metric, as SageMaker does for a custom training image.

The check and the insert of rules 1-4 run under one lock: moto's server is
threaded, and two concurrent creates of one name must not both succeed.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from typing import Any, Callable

from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.utils import arn_formatter

_LOCK = threading.RLock()
_MARK = "_project_emulator_rule"


def _arguments(original: Callable[..., Any], args: tuple, kwargs: dict) -> dict:
    """The call's arguments by parameter name, however the caller passed them."""
    bound = inspect.signature(original).bind(*args, **kwargs)
    return bound.arguments


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

        setattr(create, _MARK, True)
        return create

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


def _echo_metric_definitions(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rule 5: keep the AlgorithmSpecification that was sent, MetricDefinitions included."""

    @functools.wraps(original)
    def create_training_job(*args: Any, **kwargs: Any) -> Any:
        arguments = _arguments(original, args, kwargs)
        sent = copy.deepcopy(arguments.get("algorithm_specification"))
        job = original(*args, **kwargs)
        if sent is not None:
            job.algorithm_specification = sent
        return job

    setattr(create_training_job, _MARK, True)
    return create_training_job


def install() -> None:
    """Applies the rules to moto's SageMaker backend class. Idempotent."""
    backend = SageMakerModelBackend
    if getattr(backend.create_training_job, _MARK, False):
        return

    # Rule 5 sits inside rule 1, so a rejected duplicate never reaches it.
    backend.create_training_job = _unique_name(  # type: ignore[method-assign]
        "training_job_name", lambda b: b.training_jobs, _training_job_in_use
    )(_echo_metric_definitions(backend.create_training_job))
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
