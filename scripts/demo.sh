#!/usr/bin/env bash
# End-to-end demo of the pipeline, entirely on this machine, with a real model:
# the example in examples/diabetes-regression is trained on its data set and
# served, for three image pushes, then retrained on new data.
#
# A local AWS emulator (moto + tests/emulator's fixes) stands in for S3, ECR,
# SageMaker, EventBridge, EventBridge Scheduler, SQS and Application Auto
# Scaling; its local SageMaker (tests/emulator/local_sagemaker.py, configured by
# scripts/demo-local-images.json) runs the example's `train` and `serve` as
# processes for the repository mlops-training, and sends SageMaker's state-change
# events as jobs end and endpoints come into service. One `cargo lambda watch`
# runs the functions' real binaries under its Lambda runtime emulator. Every
# arrow between the stages is an EventBridge rule READ FROM template.yaml
# (scripts/template_rules.py): the demo creates those rules, with the
# template's patterns, in the emulator's EventBridge, each with an SQS queue
# standing in for its target; every event goes onto the bus and a function is
# invoked only with what its rule delivered. The new-data rule's target is the
# SQS queue RetrainQueue: its stand-in queue plays it, and the demo invokes
# retrain_model_on_new_data with a batch of its messages as the queue's event
# source mapping would. The function's one-time schedules (EventBridge
# Scheduler) send to that queue when due; the demo lets the quiet period pass
# by moving the emulator's scheduler clock to the due time. A wrong pattern in
# the template stops the demo at that stage. What a user does (push an image,
# approve a version, upload data) and SageMaker's "Model Package State Change"
# scripts/demo_aws.py does against the emulator:
#
#   first data  new data before any approval -> rule -> RetrainQueue -> retrain_model_on_new_data:
#           scheduled (a one-time schedule, due 5 min after the file); the quiet period
#           passes: the schedule's message -> RetrainQueue -> retrain_model_on_new_data:
#           no approved version, skipped, no error
#   v1.2.0  ECR push -> rule -> trigger_model_training: a training job (the same
#                       event again: skipped); the example trains on the data set;
#                       "Training Job State Change" (Completed) -> rule ->
#                       evaluate_model_function: the template's default gate passes,
#                       "Model Evaluation Completed" -> rule -> register_model_in_registry:
#                       version 1, pending; approval -> deploy_sagemaker_model: the
#                       serverless staging endpoint; its "Endpoint State Change"
#                       IN_SERVICE -> rule -> deploy: the smoke test (the example's
#                       smoke-test-requests.jsonl) passes, production endpoint created;
#                       its IN_SERVICE -> deploy: autoscaling; InvokeEndpoint: predictions
#   v1.3.0  the same chain with the image's other defaults -> version 2, staging, smoke
#                       test, production updated blue/green (canary), predictions from the
#                       new model
#   broken  a version registered by hand whose model answers 500: the staging endpoint's
#                       smoke test stops it, the alert rule takes "Model Deployment Failed",
#                       production keeps v1.3.0, the scheduled check finds nothing to do
#   v1.4.0-experiment   a one-tree model: the gate stops it, the alert rule takes the
#                       failed evaluation, nothing is registered
#   new data  a data set of 5 files, PutObject data/train/diabetes-0003-{1..5}.csv one after
#           another -> S3 "Object Created" x5 -> rule -> RetrainQueue -> one batch ->
#           retrain_model_on_new_data: one schedule for the 5; nothing starts before it is
#           due; the quiet period passes: its message -> retrain_model_on_new_data: one
#           processing job (PreprocessingEnabled), the example's preprocess in the approved
#           v1.3.0 image on all the raw data: train / validation / test sets under processed/;
#           its "Processing Job State Change" (Completed) -> rule -> RetrainQueue ->
#           retrain_model_on_new_data: one training job on the train and validation sets
#           (the same event again: skipped) -> evaluate -> register.
#           A corrupt file: its burst's processing job fails, the alert rule takes it,
#           nothing is trained. A file after that: the next burst's schedule (not fired);
#           a non-CSV file: no rule takes it
#
# Usage, from anywhere (needs only the Rust toolchain and python3):
#   bash scripts/demo.sh
#   bash scripts/demo.sh --invoke <function> <event file>    (what `make invoke` runs)
# Everything started is stopped on exit, including on failure and Ctrl-C.
# Logs, the events each function got, answers.jsonl (each invocation's answer),
# routes.jsonl (each routing), scheduler-fired.jsonl (each schedule the quiet
# periods fired) and summary.txt: .demo/ (DEMO_LOGS to change it).
# With --invoke, the demo sets up as it does (the emulator, the data bucket with
# the first data set, the template's rules, the functions' environment), then
# invokes the one function once with the event, prints its answer or its error
# with its log, and stops everything: no stage of the chain runs, so a stage
# that needs an earlier one's resources (evaluate needs the training job)
# answers as AWS would without them. Logs in .demo/invoke/.
# DEMO_TEMPLATE=<file> reads the rules from another template (the tests use a
# broken copy to check that a wrong pattern fails the demo).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
invoke_function="" invoke_event=""
if [[ ${1:-} == --invoke ]]; then
    (($# == 3)) && [[ -n $2 ]] || { echo "usage: bash scripts/demo.sh --invoke <function> <event file>" >&2; exit 2; }
    invoke_function=$2
    invoke_event=$(realpath -e -- "$3" 2>/dev/null) || { echo "no event file $3 (the samples are in events/)" >&2; exit 2; }
elif (($#)); then
    echo "usage: bash scripts/demo.sh [--invoke <function> <event file>]" >&2
    exit 2
fi
cd "$root"
logs=${DEMO_LOGS:-.demo}
[[ -z $invoke_function ]] || logs=${DEMO_LOGS:-.demo/invoke}
template=${DEMO_TEMPLATE:-template.yaml}
rm -rf "$logs" && mkdir -p "$logs"
state="$logs/rules.json" # the rules created from the template, and their queues
export PATH="$root/.venv/bin:$PATH" # the pinned cargo-lambda and the venv's python
started_at=$SECONDS
pids=()    # background processes, each the leader of its own process group (setsid)
summary=() # "label|result", one per stage, printed at the end (and into summary.txt)
stage="setting up"

step() { printf '==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
done_stage() { summary+=("$1|$2"); } # done_stage <label> <result>
fail() { # fail <message> [log...]
    printf '\nDEMO FAILED (%s): %s\n' "$stage" "$1" >&2
    shift
    for log in "$@"; do
        printf -- '---- %s (last 40 lines) ----\n' "$log" >&2
        tail -n 40 "$log" >&2 || true
    done
    exit 1
}

stop_all() { # the trap: stops every process group started here, then exits
    local status=$? groups=() children=() group pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        # cargo lambda watch starts each function in a session of its own.
        mapfile -t children < <(pgrep -P "$pid" || true)
        groups+=("$pid" "${children[@]}")
    done
    for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
    for _ in {1..50}; do
        local alive=0
        for group in "${groups[@]}"; do kill -0 -- "-$group" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for group in "${groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ((${#groups[@]} == 0)) || say "(stopped everything the demo started)"
    exit "$status"
}
trap stop_all EXIT
trap 'echo " interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until() { # wait_until <seconds> <what> <log> <command...>, while the last process started lives
    local deadline=$((SECONDS + $1)) what=$2 log=$3
    shift 3
    until "$@"; do
        kill -0 "${pids[-1]}" 2>/dev/null || fail "$what exited" "$log"
        ((SECONDS < deadline)) || fail "$what was not ready in time" "$log"
        sleep 0.2
    done
}
demo_aws() { # demo_aws <demo_aws.py command> [arguments...]: its lines, or the demo fails with its reason
    python scripts/demo_aws.py "$@" 2>"$logs/aws.err" \
        || fail "$(tail -n 1 "$logs/aws.err")" "$logs/aws.err" "$logs/emulator.log"
}

# Nothing of the user's own AWS setup applies: every client talks to the emulator.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

step "Python venv .venv (moto, boto3, cargo-lambda), from tests/emulator/requirements.txt"
bash tests/emulator/ensure-venv.sh || fail "tests/emulator/ensure-venv.sh failed"
version=$(cargo lambda --version) || fail "cargo lambda is missing from .venv/bin"
say "$version"

# The functions the chain runs, each a binary of this workspace.
functions=(trigger_model_training evaluate_model_function register_model_in_registry deploy_sagemaker_model
    retrain_model_on_new_data serve_predictions)
if [[ -n $invoke_function ]]; then
    known=false
    for function in "${functions[@]}"; do [[ $function == "$invoke_function" ]] && known=true; done
    $known || fail "no function $invoke_function; the functions: ${functions[*]}"
    functions=("$invoke_function")
fi
step "Building the ${#functions[@]} functions (debug, as cargo lambda watch runs them; first time: minutes, log in $logs/)"
# Builds exactly what watch's `cargo run --manifest-path Cargo.toml --bin
# <function>` builds, so its own builds are no-ops. Without -p, cargo resolves
# features over the whole workspace (the tests crate adds tokio features, for
# one); a `-p <function>` build resolves them differently, and watch would then
# rebuild the SDK stack while the demo waits on its first invocation.
build_started=$SECONDS
for function in "${functions[@]}"; do
    cargo build --manifest-path Cargo.toml --bin "$function" >>"$logs/build.log" 2>&1 \
        || fail "cargo build --bin $function failed" "$logs/build.log"
done
say "built in $((SECONDS - build_started)) s: ${functions[*]}"

step "Starting the AWS emulator (S3, SageMaker, EventBridge, EventBridge Scheduler, SQS, Application Auto Scaling) on 127.0.0.1"
setsid python tests/emulator/launcher.py --host 127.0.0.1 --ignore-stdin --local-images scripts/demo-local-images.json \
    </dev/null >"$logs/emulator.out" 2>"$logs/emulator.log" &
pids+=($!)
wait_until 60 "the emulator" "$logs/emulator.log" grep -q '^READY ' "$logs/emulator.out"
emulator_port=$(awk '/^READY/ { print $2 }' "$logs/emulator.out")
export AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
say "$AWS_ENDPOINT_URL"

# The deployment the demo plays: template.yaml's parameters, and the same
# values in the functions' environment below.
pipeline=mlops
bucket=mlops-demo-data
data_prefix=data/train/
data_suffix=.csv
quiet_minutes=5      # RetrainQuietMinutes
max_delay_minutes=60 # RetrainMaxDelayMinutes
schedule_group=$pipeline-retraining # RetrainScheduleGroup
retrain_target="SQS queue RetrainQueue" # the new-data rule's target, as demo_aws names it
processed_prefix=processed/             # ProcessingPrefix: the processing jobs' outputs
role_arn=arn:aws:iam::123456789012:role/mlops-sagemaker-execution
scheduler_role_arn=arn:aws:iam::123456789012:role/mlops-retrain-scheduler # RetrainSchedulerRole
# The gate and the metric lines are the template's defaults, which fit the
# example model (examples/diabetes-regression).
template_default() {
    python -c 'import sys; sys.path.insert(0, "scripts"); import template_rules
print(template_rules.decode(sys.argv[1])["Parameters"][sys.argv[2]]["Default"])' "$template" "$1"
}
thresholds=$(template_default EvaluationThresholds) || fail "cannot read EvaluationThresholds from $template"
metric_definitions=$(template_default TrainingMetricDefinitions) || fail "cannot read TrainingMetricDefinitions from $template"
sample_request=examples/diabetes-regression/sample-request.csv
smoke_key=smoke/requests.jsonl # the example's smoke-test-requests.jsonl, outside the data prefix
staging=mlops--staging-endpoint
dataset_rows=$(wc -l <examples/diabetes-regression/data/diabetes.csv)
template_params=(
    PipelineName="$pipeline"
    SageMakerExecutionRoleArn="$role_arn"
    EcrRepositoryName=mlops-training
    DataBucketName="$bucket"
    DataPrefix="$data_prefix"
    DataKeySuffix="$data_suffix"
    ArtifactsPrefix=models/
    EventBusName=default
    EventSource=mlops.pipeline
    AutoscalingMinInstances=1
    AutoscalingMaxInstances=4
    AutoscalingTargetInvocations=100
    StagingEnabled=true
    SmokeTestRequestsS3Uri="s3://$bucket/$smoke_key"
    RetrainQuietMinutes="$quiet_minutes"
    RetrainMaxDelayMinutes="$max_delay_minutes"
    PreprocessingEnabled=true
    ProcessingPrefix="$processed_prefix"
)

step "The training data bucket s3://$bucket, with the first data set under $data_prefix"
demo_aws data-bucket "$bucket" "$data_prefix" "$smoke_key"

stage="rules"
step "The EventBridge rules of $template, created in the emulator (an SQS queue per rule for its target)"
demo_aws rules "$template" "$state" "${template_params[@]}"
# The retraining schedules' group, and their target: the queue standing in for
# RetrainQueue (the new-data rule's), whose event source mapping invokes
# retrain_model_on_new_data.
demo_aws schedule-group "$schedule_group"
retrain_queue_arn=$(demo_aws queue-arn "$state" "$retrain_target")
say "RetrainQueue: $retrain_queue_arn (the new-data rule's target and the retraining schedules')"

# The functions' configuration, as template.yaml sets it for the parameters
# above; the functions read different variables except the shared ones, which
# agree (PIPELINE_NAME, SAGEMAKER_ROLE_ARN, EVENT_SOURCE, TRAINING_*,
# MODEL_PACKAGE_GROUP_NAME), so one environment serves them all.
# cargo lambda watch passes its own environment on to each function, so plain
# `env` does it (its --env-var flag splits values at commas, which breaks the
# JSON and threshold ones). The AWS_* variables above go along too.
function_env=(
    PIPELINE_NAME="$pipeline"
    SAGEMAKER_ROLE_ARN="$role_arn"
    # trigger_model_training (and retrain_model_on_new_data: TRAINING_*)
    ECR_REPOSITORY_NAME=mlops-training
    TRAINING_CHANNELS='[{"name":"train","s3_uri":"s3://'"$bucket/$data_prefix"'","content_type":"text/csv"}]'
    TRAINING_OUTPUT_S3_URI="s3://$bucket/models/"
    TRAINING_HYPERPARAMETERS='{}'
    TRAINING_METRIC_DEFINITIONS="$metric_definitions"
    # evaluate_model_function (and register_model_in_registry: EVENT_SOURCE)
    EVALUATION_THRESHOLDS="$thresholds"
    EVENT_BUS_NAME=default
    EVENT_SOURCE=mlops.pipeline
    # deploy_sagemaker_model
    DEPLOYMENT_TRAFFIC_ROUTING=CANARY
    DEPLOYMENT_CANARY_PERCENT=10
    DEPLOYMENT_WAIT_SECONDS=300
    # the template's default rollback alarms (DeploymentRollbackAlarms empty)
    DEPLOYMENT_ROLLBACK_ALARMS="$pipeline-mlops-endpoint-5xx-rate,$pipeline-mlops-endpoint-model-latency"
    AUTOSCALING_MIN_INSTANCES=1
    AUTOSCALING_MAX_INSTANCES=4
    AUTOSCALING_TARGET_INVOCATIONS=100
    STAGING_ENABLED=true
    SMOKE_TEST_REQUESTS_S3_URI="s3://$bucket/$smoke_key"
    # retrain_model_on_new_data
    RETRAIN_DATA_S3_URI="s3://$bucket/$data_prefix"
    RETRAIN_KEY_SUFFIX="$data_suffix"
    RETRAIN_DATA_CHANNEL=dataset
    RETRAIN_CHANNEL_NAME=train
    RETRAIN_QUIET_MINUTES="$quiet_minutes"
    RETRAIN_MAX_DELAY_MINUTES="$max_delay_minutes"
    RETRAIN_SCHEDULE_GROUP="$schedule_group"
    RETRAIN_SCHEDULE_TARGET_ARN="$retrain_queue_arn"
    RETRAIN_SCHEDULE_ROLE_ARN="$scheduler_role_arn"
    # retrain_model_on_new_data and trigger_model_training: preprocessing
    # (the template's defaults for the rest: the example's preprocess, in the
    # training image; outputs train=train,validation=validation,test)
    PREPROCESSING_ENABLED=true
    PROCESSING_OUTPUT_S3_URI="s3://$bucket/$processed_prefix"
    # serve_predictions (ENDPOINT_NAME: <pipeline>--endpoint). cargo lambda
    # watch gives no function ARN to make the endpoint's from, so it is named.
    # Versions go live seconds apart here: GET /model reads the tags every time.
    ENDPOINT_ARN="arn:aws:sagemaker:$AWS_REGION:123456789012:endpoint/mlops--endpoint"
    MODEL_INFO_CACHE_SECONDS=0
)
invoke_port=$(free_port)
step "Starting cargo lambda watch (serves all ${#functions[@]} functions) on 127.0.0.1:$invoke_port"
# watch's --timeout bounds every request it serves, the functions' own long
# polls for their next invocation too: one idle for longer gets an answer
# without a request id and exits (lambda_runtime panics). Functions idle for
# minutes here (the late data waits up to a minute), so it is an hour; each
# invocation is bounded by invoke's `timeout 90` instead.
env "${function_env[@]}" setsid cargo lambda watch --ignore-changes --timeout 3600 \
    --invoke-address 127.0.0.1 --invoke-port "$invoke_port" </dev/null >"$logs/watch.log" 2>&1 &
pids+=($!)
wait_until 30 "cargo lambda watch" "$logs/watch.log" port_open "$invoke_port"
# serve_predictions as a function URL, as watch serves HTTP functions.
api_url="http://127.0.0.1:$invoke_port/lambda-url/serve_predictions"

call() { # call <function> <event file>: the function's answer to the event in $logs/invoke.out, or its error in invoke.err
    local function=$1 event=$2
    timeout 90 cargo lambda invoke "$function" --data-file "$event" \
        --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
        </dev/null >"$logs/invoke.out" 2>"$logs/invoke.err" &
    local invoke_pid=$!
    # A function that fails its cold start (or exits) leaves the call waiting: fail fast.
    while kill -0 "$invoke_pid" 2>/dev/null; do
        if grep -qE 'ERROR command (exited|killed)' "$logs/watch.log"; then
            kill "$invoke_pid" 2>/dev/null || true
            fail "$function's process exited; its output is in $logs/watch.log" "$logs/watch.log"
        fi
        sleep 0.1
    done
    wait "$invoke_pid"
}
invoke() { # invoke <function> <event file> <key=value the answer must have>...: sets $answer
    local function=$1 event=$2
    shift 2
    call "$function" "$event" || fail "invoking $function with $event failed" "$logs/invoke.err" "$logs/watch.log"
    answer=$(<"$logs/invoke.out")
    say "$function -> $answer"
    printf '{"stage":"%s","function":"%s","event":"%s","answer":%s}\n' \
        "$stage" "$function" "$event" "$answer" >>"$logs/answers.jsonl"
    python scripts/demo_aws.py expect "$answer" "$@" 2>"$logs/expect.err" \
        || fail "$function: $(<"$logs/expect.err")" "$logs/watch.log"
}
field() { # field <key>: of the last answer (a dotted path: training_jobs.0.image)
    python scripts/demo_aws.py field "$answer" "$1" 2>"$logs/field.err" || fail "$(<"$logs/field.err")"
}
check() { # check <key=value>...: more fields of the last answer, e.g. against others of it
    python scripts/demo_aws.py expect "$answer" "$@" 2>"$logs/expect.err" || fail "$(<"$logs/expect.err")"
}
route() { # route <event file> <function|none> [<out>]: the event onto the bus; the template's rules deliver it
    demo_aws route "$state" "$1" "$2" "${3:--}"
}

if [[ -n $invoke_function ]]; then # make invoke: this one function, once
    stage="invoke"
    step "Invoking $invoke_function with ${invoke_event#"$root"/}"
    if call "$invoke_function" "$invoke_event"; then
        say "answer: $(<"$logs/invoke.out")"
        say "(its log: $logs/watch.log)"
        exit 0
    fi
    printf '    the function failed:\n' >&2
    sed 's/^/    /' "$logs/invoke.err" >&2
    printf -- '---- its log, %s (last 20 lines) ----\n' "$logs/watch.log" >&2
    tail -n 20 "$logs/watch.log" >&2
    exit 1
fi

# release <tag> <expected verdict: passed|gated> <deploy action: created|updated|->: one image through the chain.
release() {
    local tag=$1 verdict=$2 deploy_action=$3
    local dir="$logs/$tag" job_name event_id package_arn version first=false
    [[ $tag == v1.2.0 ]] && first=true
    mkdir -p "$dir"

    stage="$tag trigger"
    if $first; then
        step "[$tag] A push to another repository (events/ecr-push-other-repository.json): no rule takes it"
        route events/ecr-push-other-repository.json none
    fi
    step "[$tag] CI pushes mlops-training:$tag (the example image) to ECR: the rule takes ECR's event to trigger_model_training"
    demo_aws push mlops-training "$tag" events/ecr-push.json "$dir/ecr-push.aws.json"
    route "$dir/ecr-push.aws.json" trigger_model_training "$dir/ecr-push.json"
    invoke trigger_model_training "$dir/ecr-push.json" action=started
    job_name=$(field training_job_name)
    image=$(field image)
    if $first; then
        step "[$tag] EventBridge delivers at least once: the same event again is skipped (idempotent)"
        invoke trigger_model_training "$dir/ecr-push.json" action=skipped 'reason=already started'
    fi
    done_stage "$tag trigger" "started $job_name"

    stage="$tag training"
    step "[$tag] SageMaker (the emulator) trains the example for real: train on the data set; its \"Training Job State Change\" (Completed) -> rule -> evaluate_model_function"
    demo_aws awaited "$state" evaluate_model_function TrainingJobName="$job_name" "$dir/training-job-completed.json"
    demo_aws training-job "$job_name" "$((++jobs))"
    demo_aws metrics "$job_name" "$dir/metrics.txt"
    done_stage "$tag trained" "$(<"$dir/metrics.txt")"

    stage="$tag evaluate"
    if [[ $verdict == gated ]]; then
        step "[$tag] evaluate_model_function ($thresholds): FAILED, \"Model Evaluation Completed\" (passed=false) goes to the alert rule"
        invoke evaluate_model_function "$dir/training-job-completed.json" action=evaluated passed=false
        demo_aws alerted "$state" "$job_name" "$dir/alert.txt"
        done_stage "$tag evaluate" "stopped by the gate: $(field reason); the alert topic told, nothing registered"
        return
    fi
    step "[$tag] evaluate_model_function ($thresholds): passed, it puts \"Model Evaluation Completed\" on the bus"
    invoke evaluate_model_function "$dir/training-job-completed.json" action=evaluated passed=true
    event_id=$(field event_id)
    step "[$tag] The rule takes that event to register_model_in_registry"
    demo_aws delivered "$state" "$event_id" register_model_in_registry "$dir/model-evaluation-completed.json"
    demo_aws evaluation "$dir/model-evaluation-completed.json"
    done_stage "$tag evaluate" "passed; event $event_id routed by the rule"

    stage="$tag register"
    step "[$tag] register_model_in_registry: a new version, pending approval"
    invoke register_model_in_registry "$dir/model-evaluation-completed.json" \
        action=registered approval_status=PendingManualApproval
    package_arn=$(field model_package_arn)
    version=$(field version)
    released_package=$package_arn released_version=$version
    step "[$tag] The model package (DescribeModelPackage)"
    demo_aws model-package "$package_arn"
    if $first; then
        step "[$tag] SageMaker's \"Model Package State Change\" for the new version (PendingManualApproval): no rule takes it"
        demo_aws package-event "$package_arn" events/model-package-approved.json "$dir/model-package-pending.aws.json"
        route "$dir/model-package-pending.aws.json" none
    fi
    done_stage "$tag register" "model package mlops--models version $version, PendingManualApproval"
    [[ $deploy_action != - ]] || return 0

    stage="$tag approve"
    step "[$tag] A user approves version $version (UpdateModelPackage); SageMaker's state change goes to deploy_sagemaker_model"
    demo_aws approve "$package_arn"
    demo_aws package-event "$package_arn" events/model-package-approved.json "$dir/model-package-approved.aws.json"
    route "$dir/model-package-approved.aws.json" deploy_sagemaker_model "$dir/model-package-approved.json"
    done_stage "$tag approve" "version $version Approved; state change routed by the rule"

    stage="$tag staging"
    step "[$tag] deploy_sagemaker_model: the version goes to the staging endpoint first (serverless; StagingEnabled)"
    invoke deploy_sagemaker_model "$dir/model-package-approved.json" action=staged endpoint="$staging"
    step "[$tag] The staging endpoint serves it; its \"Endpoint State Change\" (IN_SERVICE) -> rule -> deploy_sagemaker_model: the smoke test (s3://$bucket/$smoke_key), then production"
    demo_aws awaited "$state" deploy_sagemaker_model "EndpointName=$staging,EndpointStatus=IN_SERVICE" "$dir/staging-in-service.json"
    invoke deploy_sagemaker_model "$dir/staging-in-service.json" action="$deploy_action" smoke_test.requests=4
    done_stage "$tag smoke test" "$staging: $(field smoke_test.requests) requests answered, p99 $(field smoke_test.p99_ms) ms: passed"

    stage="$tag deploy"
    step "[$tag] SageMaker (the emulator) starts the model's serve on production; once /ping answers: \"Endpoint State Change\" (IN_SERVICE) -> rule -> deploy_sagemaker_model"
    demo_aws awaited "$state" deploy_sagemaker_model "EndpointName=mlops--endpoint,EndpointStatus=IN_SERVICE" "$dir/endpoint-in-service.json"
    if [[ $deploy_action == updated ]]; then
        step "[$tag] The blue/green deployment SageMaker was asked for (emulator: GET /_emulator/sagemaker/endpoints/mlops--endpoint)"
        demo_aws deployment mlops--endpoint 1 "$dir/deployment.txt"
    fi
    step "[$tag] The endpoint (DescribeEndpoint, DescribeEndpointConfig, DescribeModel)"
    demo_aws endpoint mlops--endpoint "$package_arn"
    done_stage "$tag deploy" "$deploy_action mlops--endpoint (version $version), InService"
    [[ $deploy_action != updated ]] || done_stage "$tag rollout" "$(<"$dir/deployment.txt")"

    stage="$tag autoscaling"
    step "[$tag] deploy_sagemaker_model on production's IN_SERVICE event: autoscaling (and the endpoint's tags name the version it serves)"
    invoke deploy_sagemaker_model "$dir/endpoint-in-service.json" action=autoscaling_registered
    if $first; then
        demo_aws autoscaling mlops--endpoint
    fi
    done_stage "$tag autoscaling" "variant AllTraffic registered, 1-4 instances, target tracking"

    stage="$tag predict"
    step "[$tag] An application calls the model: InvokeEndpoint with $sample_request"
    demo_aws predict mlops--endpoint "$sample_request" "$dir/predictions.txt"
    if $first; then
        step "[$tag] A malformed request: the model's 400 comes back as SageMaker's ModelError"
        demo_aws bad-request mlops--endpoint
    fi
    done_stage "$tag predict" "$(<"$dir/predictions.txt")"

    stage="$tag API"
    step "[$tag] The same through the inference API: serve_predictions as a function URL (cargo lambda watch) -> InvokeEndpoint"
    local api_errors=()
    ! $first || api_errors=(--errors)
    demo_aws api "$api_url" "$sample_request" "$version" "$dir/predictions.txt" "${api_errors[@]}"
    done_stage "$tag API" "POST /predictions: the same predictions; GET /model: version $version${api_errors:+; a malformed row 400, XML 415}"
}

jobs=0
first_data() { # new data before any version is approved: a schedule; when due, nothing to retrain with
    local dir="$logs/first-data" due
    mkdir -p "$dir"
    stage="first data"
    step "[first data] New data before any version is approved: S3's \"Object Created\" -> rule -> RetrainQueue, whose event source mapping delivers to retrain_model_on_new_data"
    demo_aws upload "$state" "$bucket" "${data_prefix}diabetes-0002.csv" "$retrain_target" "$dir/object-created.json"
    demo_aws sqs-batch "$state" "$retrain_target" "$dir/batch.json" "$dir/object-created.json"
    invoke retrain_model_on_new_data "$dir/batch.json" action=scheduled schedules.0.objects=1 schedules.0.created=true \
        records.0.action=scheduled batchItemFailures='[]'
    due=$(field schedules.0.due)
    step "[first data] The quiet period ($quiet_minutes min) passes on the emulator's scheduler clock: the schedule's message -> RetrainQueue -> retrain_model_on_new_data: no approved version, skipped (no error)"
    demo_aws quiet-period "$state" "$retrain_target" "$due" "$dir/retraining-due.json"
    invoke retrain_model_on_new_data "$dir/retraining-due.json" action=skipped 'reason~=no approved version' \
        training_jobs.0.action=skipped training_jobs.0.due="$due" batchItemFailures='[]'
    demo_aws schedules "$schedule_group" 0
    say "(the burst is settled: its schedule deleted, nothing trained)"
    done_stage "first data" "diabetes-0002.csv before any approval: a schedule due $due; then skipped: $(field reason)"
}
first_data

release v1.2.0 passed created
release v1.3.0 passed updated
deployed_image=$image
deployed_package=$released_package
deployed_version=$released_version

broken() { # a version whose model answers 500: the smoke test on staging stops it
    local dir="$logs/broken" arn version
    mkdir -p "$dir"
    stage="broken"
    step "[broken] A version registered by hand whose model answers 500 (image mlops-broken:v500, tests/emulator/fixtures/broken-model), and approved"
    demo_aws register-image 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-broken:v500 "$deployed_package" "$dir/arn.txt"
    arn=$(<"$dir/arn.txt")
    demo_aws approve "$arn"
    demo_aws package-event "$arn" events/model-package-approved.json "$dir/model-package-approved.aws.json"
    route "$dir/model-package-approved.aws.json" deploy_sagemaker_model "$dir/model-package-approved.json"
    invoke deploy_sagemaker_model "$dir/model-package-approved.json" action=staged endpoint="$staging"
    version=$(field model_package_version)
    step "[broken] Staging serves it; on its IN_SERVICE event the smoke test fails: the version is marked failed, alerted, and production is untouched"
    demo_aws awaited "$state" deploy_sagemaker_model "EndpointName=$staging,EndpointStatus=IN_SERVICE" "$dir/staging-in-service.json"
    invoke deploy_sagemaker_model "$dir/staging-in-service.json" action=failed stage=staging model_package_version="$version"
    local reason
    reason=$(field reason)
    demo_aws alerted "$state" "failed its deployment" "$dir/alert.txt"
    step "[broken] The scheduled check afterwards: nothing to do (the failed version is not tried again)"
    invoke deploy_sagemaker_model events/scheduled-deployment-check.json action=skipped reason=live model_package_version="$deployed_version"
    demo_aws endpoint mlops--endpoint "$deployed_package"
    done_stage "broken" "version $version stopped by the smoke test ($reason); alert sent; production keeps version $deployed_version"
}
broken

release v1.4.0-experiment gated -

retrain() { # a multi-file data set -> RetrainQueue -> one schedule; the quiet period -> one job on all of it
    local dir="$logs/new-data" part objects=() due schedule job_name processing_job late_due late_schedule
    mkdir -p "$dir"

    stage="new data"
    step "[new data] A new data set of 5 files, s3://$bucket/${data_prefix}diabetes-0003-{1..5}.csv, uploaded one after another: each S3 \"Object Created\" -> rule -> RetrainQueue"
    for part in 1 2 3 4 5; do
        demo_aws upload "$state" "$bucket" "${data_prefix}diabetes-0003-$part.csv" "$retrain_target" "$dir/object-created-$part.json"
        objects+=("$dir/object-created-$part.json")
    done
    step "[new data] RetrainQueue's event source mapping delivers the 5 messages to retrain_model_on_new_data as one batch: one schedule, due $quiet_minutes min after the newest file"
    demo_aws sqs-batch "$state" "$retrain_target" "$dir/batch.json" "${objects[@]}"
    invoke retrain_model_on_new_data "$dir/batch.json" action=scheduled schedules.0.objects=5 schedules.0.created=true \
        schedules.0.data="s3://$bucket/$data_prefix" records.0.action=scheduled records.4.action=scheduled batchItemFailures='[]'
    due=$(field schedules.0.due)
    schedule=$(field schedules.0.schedule)
    check records.0.due="$due" records.4.due="$due" records.0.schedule="$schedule" records.4.schedule="$schedule"
    say "(one schedule for the 5 files: $schedule, due $due)"
    step "[new data] Until then nothing starts: the schedule waits in $schedule_group, nothing is in RetrainQueue"
    demo_aws schedules "$schedule_group" 1
    done_stage "new data" "5 files (diabetes-0003-{1..5}.csv, 10 rows each), one after another: one batch, one schedule, due $due; nothing started until then"

    stage="preprocess"
    step "[new data] The quiet period ($quiet_minutes min) passes on the emulator's scheduler clock: the schedule's message -> RetrainQueue -> retrain_model_on_new_data: no later schedule, the burst is quiet: one processing job (PreprocessingEnabled)"
    demo_aws quiet-period "$state" "$retrain_target" "$due" "$dir/retraining-due.json"
    invoke retrain_model_on_new_data "$dir/retraining-due.json" action=started training_jobs.0.action=started \
        training_jobs.0.image="$deployed_image" training_jobs.0.due="$due" training_jobs.0.schedule="$schedule" \
        training_jobs.0.data="s3://$bucket/$data_prefix" 'training_jobs.0.processing_job_name~=mlops--proc-' batchItemFailures='[]'
    processing_job=$(field training_jobs.0.processing_job_name)
    job_name=$(field training_jobs.0.training_job_name)
    step "[new data] SageMaker (the emulator) runs the example's preprocess (the approved v1.3.0 image) on all the raw data under $data_prefix: schema checked, duplicates dropped, split by row hash into train / validation / test under s3://$bucket/$processed_prefix$processing_job/; Completed -> rule -> RetrainQueue"
    demo_aws awaited "$state" "$retrain_target" ProcessingJobName="$processing_job" "$dir/processing-job-completed.json"
    demo_aws processing-job "$processing_job" "$((dataset_rows))" "$dir/processed.txt"
    done_stage "preprocess" "one processing job for the 5 files: $processing_job, $(<"$dir/processed.txt")"

    stage="retrain"
    step "[new data] RetrainQueue's event source mapping delivers the state change to retrain_model_on_new_data: one training job on the processed train and validation sets"
    demo_aws sqs-batch "$state" "$retrain_target" "$dir/batch-processed.json" "$dir/processing-job-completed.json"
    invoke retrain_model_on_new_data "$dir/batch-processed.json" action=started processed.0.action=started \
        processed.0.processing_job_name="$processing_job" processed.0.training_job_name="$job_name" \
        processed.0.image="$deployed_image" \
        processed.0.channels.train="s3://$bucket/$processed_prefix$processing_job/train/" \
        processed.0.channels.validation="s3://$bucket/$processed_prefix$processing_job/validation/" batchItemFailures='[]'
    step "[new data] EventBridge delivers at least once: the same state change again is skipped (one training job per processing job)"
    invoke retrain_model_on_new_data "$dir/batch-processed.json" action=skipped processed.0.action=skipped \
        'processed.0.reason=already started' processed.0.training_job_name="$job_name" batchItemFailures='[]'
    step "[new data] The emulator retrains the approved v1.3.0 image on the processed sets; Completed -> rule -> evaluate_model_function"
    demo_aws awaited "$state" evaluate_model_function TrainingJobName="$job_name" "$dir/training-job-completed.json"
    demo_aws training-job "$job_name" "$((++jobs))"
    demo_aws metrics "$job_name" "$dir/metrics.txt"
    invoke evaluate_model_function "$dir/training-job-completed.json" action=evaluated passed=true
    demo_aws delivered "$state" "$(field event_id)" register_model_in_registry "$dir/model-evaluation-completed.json"
    invoke register_model_in_registry "$dir/model-evaluation-completed.json" \
        action=registered approval_status=PendingManualApproval
    done_stage "retrain" "$job_name on the processed train and validation sets, the approved v1.3.0 image: $(<"$dir/metrics.txt"); version $(field version) pending approval; the completion delivered twice, one job"

    stage="corrupt data"
    step "[corrupt data] A file that is not the data set's schema (${data_prefix}diabetes-0004-corrupt.csv): its burst's processing job fails, the alert rule takes it, nothing is trained"
    demo_aws past-burst "$due" "$quiet_minutes"
    demo_aws upload "$state" "$bucket" "${data_prefix}diabetes-0004-corrupt.csv" "$retrain_target" "$dir/object-created-corrupt.json"
    demo_aws sqs-batch "$state" "$retrain_target" "$dir/batch-corrupt.json" "$dir/object-created-corrupt.json"
    invoke retrain_model_on_new_data "$dir/batch-corrupt.json" action=scheduled schedules.0.objects=1 batchItemFailures='[]'
    due=$(field schedules.0.due)
    demo_aws quiet-period "$state" "$retrain_target" "$due" "$dir/retraining-due-corrupt.json"
    invoke retrain_model_on_new_data "$dir/retraining-due-corrupt.json" action=started \
        'training_jobs.0.processing_job_name~=mlops--proc-' batchItemFailures='[]'
    local failed_job failed_schedule
    failed_job=$(field training_jobs.0.processing_job_name)
    failed_schedule=$(field training_jobs.0.schedule)
    [[ $failed_job != "$processing_job" ]] || fail "the corrupt file's burst got the earlier burst's processing job $processing_job"
    step "[corrupt data] preprocess stops at the corrupt file; \"Processing Job State Change\" (Failed) -> the alert rule only (not RetrainQueue)"
    demo_aws alerted "$state" "$failed_job" "$dir/alert-corrupt.txt"
    demo_aws training-job "$job_name" "$jobs"
    done_stage "corrupt data" "diabetes-0004-corrupt.csv: $failed_job $(demo_aws exit-message "$failed_job"); the alert topic told, nothing trained"

    stage="late data"
    step "[late data] A file after that (diabetes-0002.csv again): the next burst's schedule, a quiet period after it; the started bursts' schedules are gone"
    # The quiet period passed on the scheduler's clock only: S3's event times are real.
    demo_aws past-burst "$due" "$quiet_minutes"
    demo_aws upload "$state" "$bucket" "${data_prefix}diabetes-0002.csv" "$retrain_target" "$dir/object-created-late.json"
    demo_aws sqs-batch "$state" "$retrain_target" "$dir/batch-late.json" "$dir/object-created-late.json"
    invoke retrain_model_on_new_data "$dir/batch-late.json" action=scheduled schedules.0.objects=1 schedules.0.created=true \
        batchItemFailures='[]'
    late_schedule=$(field schedules.0.schedule)
    late_due=$(field schedules.0.due)
    [[ $late_schedule != "$schedule" && $late_schedule != "$failed_schedule" ]] \
        || fail "the file after the jobs started got a started burst's schedule $late_schedule"
    demo_aws schedules "$schedule_group" 1
    say "($schedule and $failed_schedule are gone, deleted when their jobs started; $late_schedule is not fired: the demo ends before $late_due)"
    step "[late data] A file that is not $data_suffix (${data_prefix}notes.txt): no rule takes it"
    demo_aws upload "$state" "$bucket" "${data_prefix}notes.txt" none -
    done_stage "late data" "diabetes-0002.csv after the jobs started: the next burst's schedule $late_schedule, due $late_due (not fired); notes.txt: filtered by the rule"
}
retrain

stage="metrics"
step "[metrics] What each function wrote to its log as CloudWatch metrics (Embedded Metric Format: CloudWatch Logs makes them metrics as it ingests the log, no API call), summed per stage"
demo_aws emf "$logs/watch.log" trigger retrain evaluate register deploy serve >"$logs/metrics.txt"
cat "$logs/metrics.txt"
done_stage "metrics" "$(tail -n 1 "$logs/metrics.txt" | sed 's/^ *(//; s/)$//'), from all 6 functions; per stage above, in the dashboard's namespace"

stage="summary"
census=$(python scripts/demo_aws.py census 2>"$logs/aws.err") || fail "$(tail -n 1 "$logs/aws.err")" "$logs/aws.err"
routes=$(wc -l <"$logs/routes.jsonl")

{
    printf '\nDemo complete in %s s.\n' "$((SECONDS - started_at))"
    for line in "${summary[@]}"; do printf '    %-26s %s\n' "${line%%|*}" "${line#*|}"; done
    printf '    %-26s %s\n' \
        routing "$routes events through the EventBridge rules of $template, each to the expected target (a function, RetrainQueue, the alert topic) or to none" \
        functions "${#functions[@]} debug binaries, run by one cargo lambda watch" \
        emulator "moto on $AWS_ENDPOINT_URL: $census" \
        logs "$logs/ (build, emulator, cargo lambda watch + functions; the events each stage got, per tag)"
} | tee "$logs/summary.txt"
