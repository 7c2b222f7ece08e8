#!/usr/bin/env bash
# End-to-end demo of the pipeline, entirely on this machine: two image pushes,
# each trained, evaluated, registered, approved and deployed, then new data
# that retrains the model.
#
# A local AWS emulator (moto + tests/emulator's fixes) stands in for S3,
# SageMaker, EventBridge, SQS and Application Auto Scaling, and one `cargo
# lambda watch` runs the functions' real binaries under its Lambda runtime
# emulator. Every arrow between the stages is an EventBridge rule READ FROM
# template.yaml (scripts/template_rules.py): the demo creates those rules, with
# the template's patterns, in the emulator's EventBridge, each with an SQS
# queue standing in for its function; every event goes onto the bus and a
# function is invoked only with what its rule delivered. A wrong pattern in the
# template stops the demo at that stage. What AWS does between the functions
# (SageMaker finishing a job, a user approving a version, the state-change
# events, S3's "Object Created") scripts/demo_aws.py does against the emulator:
#
#   v1.2.0  ECR push -> rule -> trigger_model_training: training job (the same event
#                       again: skipped; another repository's push: no rule takes it)
#           the job completes: evaluation.json in its output.tar.gz; SageMaker's
#                       "Training Job State Change" (InProgress: no rule; Completed:)
#                       -> rule -> evaluate_model_function: passed, it puts
#                       "Model Evaluation Completed" on the bus
#                       -> rule -> register_model_in_registry: version 1, pending
#                       ("Model Package State Change" PendingManualApproval: no rule)
#           approval:   UpdateModelPackage Approved, SageMaker's state change
#                       -> rule -> deploy_sagemaker_model: endpoint created
#                       "Endpoint State Change" IN_SERVICE -> rule -> deploy: autoscaling
#   v1.3.0  the same chain -> version 2, endpoint updated blue/green (canary)
#   new data  PutObject data/train/*.csv -> S3 "Object Created" -> rule ->
#           retrain_model_on_new_data: a training job on the deployed image (a second
#           file in the same window: the same job; a non-CSV file: no rule takes it)
#
# Usage, from anywhere (needs only the Rust toolchain and python3):
#   bash scripts/demo.sh
# Everything started is stopped on exit, including on failure and Ctrl-C.
# Logs, the events each function got, answers.jsonl (each invocation's answer),
# routes.jsonl (each routing) and summary.txt: .demo/ (DEMO_LOGS to change it).
# DEMO_TEMPLATE=<file> reads the rules from another template (the tests use a
# broken copy to check that a wrong pattern fails the demo).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs=${DEMO_LOGS:-.demo}
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
    local status=$? groups=() group pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        # cargo lambda watch starts each function in a session of its own.
        groups+=("$pid" $(pgrep -P "$pid" || true))
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
    retrain_model_on_new_data)
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

step "Starting the AWS emulator (S3, SageMaker, EventBridge, SQS, Application Auto Scaling) on 127.0.0.1"
setsid python tests/emulator/launcher.py --host 127.0.0.1 --ignore-stdin \
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
retrain_window=3600
role_arn=arn:aws:iam::123456789012:role/mlops-sagemaker-execution
thresholds="regression_metrics.rmse <= 3.5, regression_metrics.r2 >= 0.8"
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
)

step "The training data bucket s3://$bucket, with the first data set under $data_prefix"
demo_aws data-bucket "$bucket" "$data_prefix"

stage="rules"
step "The EventBridge rules of $template, created in the emulator (an SQS queue per rule for its target)"
demo_aws rules "$template" "$state" "${template_params[@]}"

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
    TRAINING_HYPERPARAMETERS='{"epochs":"10"}'
    TRAINING_METRIC_DEFINITIONS='[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]'
    # evaluate_model_function (and register_model_in_registry: EVENT_SOURCE)
    EVALUATION_THRESHOLDS="$thresholds"
    EVENT_BUS_NAME=default
    EVENT_SOURCE=mlops.pipeline
    # deploy_sagemaker_model
    DEPLOYMENT_TRAFFIC_ROUTING=CANARY
    DEPLOYMENT_CANARY_PERCENT=10
    DEPLOYMENT_WAIT_SECONDS=300
    DEPLOYMENT_ROLLBACK_ALARMS=mlops-endpoint-5xx
    AUTOSCALING_MIN_INSTANCES=1
    AUTOSCALING_MAX_INSTANCES=4
    AUTOSCALING_TARGET_INVOCATIONS=100
    # retrain_model_on_new_data
    RETRAIN_DATA_S3_URI="s3://$bucket/$data_prefix"
    RETRAIN_KEY_SUFFIX="$data_suffix"
    RETRAIN_DATA_CHANNEL=dataset
    RETRAIN_CHANNEL_NAME=train
    RETRAIN_WINDOW_SECONDS="$retrain_window"
)
invoke_port=$(free_port)
step "Starting cargo lambda watch (serves all ${#functions[@]} functions) on 127.0.0.1:$invoke_port"
env "${function_env[@]}" setsid cargo lambda watch --ignore-changes --timeout 60 \
    --invoke-address 127.0.0.1 --invoke-port "$invoke_port" </dev/null >"$logs/watch.log" 2>&1 &
pids+=($!)
wait_until 30 "cargo lambda watch" "$logs/watch.log" port_open "$invoke_port"

invoke() { # invoke <function> <event file> <key=value the answer must have>...: sets $answer
    local function=$1 event=$2
    shift 2
    timeout 90 cargo lambda invoke "$function" --data-file "$event" \
        --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
        </dev/null >"$logs/invoke.out" 2>"$logs/invoke.err" &
    local invoke_pid=$!
    # A function that fails its cold start leaves the call waiting for watch's --timeout: fail fast.
    while kill -0 "$invoke_pid" 2>/dev/null; do
        if grep -qE 'ERROR command (exited|killed)' "$logs/watch.log"; then
            kill "$invoke_pid" 2>/dev/null || true
            fail "$function's process exited; its output is in $logs/watch.log" "$logs/watch.log"
        fi
        sleep 0.1
    done
    wait "$invoke_pid" || fail "invoking $function with $event failed" "$logs/invoke.err" "$logs/watch.log"
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
route() { # route <event file> <function|none> [<out>]: the event onto the bus; the template's rules deliver it
    demo_aws route "$state" "$1" "$2" "${3:--}"
}

# release <tag> <ECR push event> <rmse> <r2> <deploy action>: one image through the whole chain.
release() {
    local tag=$1 push=$2 rmse=$3 r2=$4 deploy_action=$5
    local dir="$logs/$tag" job_name event_id package_arn version endpoint_config first=false
    [[ $tag == v1.2.0 ]] && first=true
    mkdir -p "$dir"

    stage="$tag trigger"
    step "[$tag] ECR pushes mlops-training:$tag ($push): the rule takes it to trigger_model_training"
    route "$push" trigger_model_training "$dir/ecr-push.json"
    invoke trigger_model_training "$dir/ecr-push.json" action=started
    job_name=$(field training_job_name)
    image=$(field image)
    if $first; then
        step "[$tag] EventBridge delivers at least once: the same event again is skipped (idempotent)"
        invoke trigger_model_training "$dir/ecr-push.json" action=skipped 'reason=already started'
        step "[$tag] A push to another repository (events/ecr-push-other-repository.json): no rule takes it"
        route events/ecr-push-other-repository.json none
        step "[$tag] The training job in the emulator's SageMaker (DescribeTrainingJob, ListTags)"
        demo_aws training-job "$job_name" 1
        done_stage "$tag trigger" "started $job_name; same event again: skipped; other repository: filtered by the rule"
    else
        done_stage "$tag trigger" "started $job_name"
    fi

    stage="$tag job completes"
    step "[$tag] The job completes: its output where SageMaker puts it (S3's events for it: no rule takes them)"
    demo_aws job-output "$job_name" "$rmse" "$r2"
    if $first; then
        step "[$tag] SageMaker's \"Training Job State Change\" while it ran (InProgress): no rule takes it"
        demo_aws training-event "$job_name" events/training-job-completed.json "$dir/training-job-in-progress.aws.json" InProgress
        route "$dir/training-job-in-progress.aws.json" none
    fi
    step "[$tag] SageMaker's \"Training Job State Change\" (Completed): the rule takes it to evaluate_model_function"
    demo_aws training-event "$job_name" events/training-job-completed.json "$dir/training-job-completed.aws.json"
    route "$dir/training-job-completed.aws.json" evaluate_model_function "$dir/training-job-completed.json"
    done_stage "$tag job output" "evaluation.json (rmse $rmse, r2 $r2) in output.tar.gz; Completed event routed"

    stage="$tag evaluate"
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
    step "[$tag] The model package (DescribeModelPackage)"
    demo_aws model-package "$package_arn"
    if $first; then
        step "[$tag] SageMaker's \"Model Package State Change\" for the new version (PendingManualApproval): no rule takes it"
        demo_aws package-event "$package_arn" events/model-package-approved.json "$dir/model-package-pending.aws.json"
        route "$dir/model-package-pending.aws.json" none
    fi
    done_stage "$tag register" "model package mlops--models version $version, PendingManualApproval"

    stage="$tag approve"
    step "[$tag] A user approves version $version (UpdateModelPackage); SageMaker's state change goes to deploy_sagemaker_model"
    demo_aws approve "$package_arn"
    demo_aws package-event "$package_arn" events/model-package-approved.json "$dir/model-package-approved.aws.json"
    route "$dir/model-package-approved.aws.json" deploy_sagemaker_model "$dir/model-package-approved.json"
    done_stage "$tag approve" "version $version Approved; state change routed by the rule"

    stage="$tag deploy"
    step "[$tag] deploy_sagemaker_model: endpoint $deploy_action"
    invoke deploy_sagemaker_model "$dir/model-package-approved.json" action="$deploy_action"
    endpoint_config=$(field endpoint_config)
    if [[ $deploy_action == updated ]]; then
        step "[$tag] The blue/green deployment SageMaker was asked for (emulator: GET /_emulator/sagemaker/endpoints/mlops--endpoint)"
        demo_aws deployment mlops--endpoint 1 "$dir/deployment.txt"
    fi
    step "[$tag] The endpoint (DescribeEndpoint, DescribeEndpointConfig, DescribeModel)"
    demo_aws endpoint mlops--endpoint "$package_arn"
    done_stage "$tag deploy" "$deploy_action mlops--endpoint on $endpoint_config (version $version), InService"
    [[ $deploy_action != updated ]] || done_stage "$tag rollout" "$(<"$dir/deployment.txt")"

    stage="$tag autoscaling"
    step "[$tag] SageMaker's \"Endpoint State Change\" (IN_SERVICE): the rule takes it to deploy_sagemaker_model"
    demo_aws endpoint-event mlops--endpoint events/endpoint-in-service.json "$dir/endpoint-in-service.aws.json"
    route "$dir/endpoint-in-service.aws.json" deploy_sagemaker_model "$dir/endpoint-in-service.json"
    invoke deploy_sagemaker_model "$dir/endpoint-in-service.json" action=autoscaling_registered
    if $first; then
        demo_aws autoscaling mlops--endpoint
    fi
    done_stage "$tag autoscaling" "variant AllTraffic registered, 1-4 instances, target tracking"
}

release v1.2.0 events/ecr-push.json 2.9 0.91 created

stage="v1.3.0 push"
step "[v1.3.0] A new training image is pushed: $logs/v1.3.0/ecr-push.aws.json (from events/ecr-push.json, another digest)"
demo_aws push-event events/ecr-push.json "$logs/v1.3.0/ecr-push.aws.json" v1.3.0
release v1.3.0 "$logs/v1.3.0/ecr-push.aws.json" 2.4 0.94 updated
deployed_image=$image

retrain() { # new data in the bucket -> S3 "Object Created" -> the rule -> retrain_model_on_new_data
    local dir="$logs/new-data" job_name
    mkdir -p "$dir"
    # Both uploads must fall in one debounce window: not in its last seconds.
    local into_window=$(($(date +%s) % retrain_window))
    if ((into_window > retrain_window - 10)); then
        say "(waiting $((retrain_window - into_window)) s for the next debounce window to begin)"
        sleep $((retrain_window - into_window))
    fi

    stage="new data"
    step "[new data] s3://$bucket/${data_prefix}part-0002.csv uploaded: S3's \"Object Created\", the rule takes it to retrain_model_on_new_data"
    demo_aws upload "$state" "$bucket" "${data_prefix}part-0002.csv" retrain_model_on_new_data "$dir/object-created-1.json"
    stage="retrain"
    invoke retrain_model_on_new_data "$dir/object-created-1.json" action=started training_jobs.0.action=started \
        training_jobs.0.image="$deployed_image"
    job_name=$(field training_jobs.0.training_job_name)
    step "[new data] A second file in the same ${retrain_window} s window: the same job, so skipped (debounced)"
    demo_aws upload "$state" "$bucket" "${data_prefix}part-0003.csv" retrain_model_on_new_data "$dir/object-created-2.json"
    invoke retrain_model_on_new_data "$dir/object-created-2.json" action=skipped \
        training_jobs.0.training_job_name="$job_name"
    step "[new data] A file that is not $data_suffix (${data_prefix}notes.txt): no rule takes it"
    demo_aws upload "$state" "$bucket" "${data_prefix}notes.txt" none -
    step "[new data] The retraining job, on the deployed image (DescribeTrainingJob, ListTags)"
    demo_aws training-job "$job_name" 3
    done_stage "new data" "part-0002.csv: Object Created routed by the rule; part-0003.csv: same window; notes.txt: filtered"
    done_stage "retrain" "started $job_name on the approved v1.3.0 image; second file: skipped (same job)"
}
retrain

stage="summary"
census=$(python scripts/demo_aws.py census 2>"$logs/aws.err") || fail "$(tail -n 1 "$logs/aws.err")" "$logs/aws.err"
routes=$(wc -l <"$logs/routes.jsonl")

{
    printf '\nDemo complete in %s s.\n' "$((SECONDS - started_at))"
    for line in "${summary[@]}"; do printf '    %-18s %s\n' "${line%%|*}" "${line#*|}"; done
    printf '    %-18s %s\n' \
        routing "$routes events through the EventBridge rules of $template, each to the expected function or to none" \
        functions "${#functions[@]} debug binaries, run by one cargo lambda watch" \
        emulator "moto on $AWS_ENDPOINT_URL: $census" \
        logs "$logs/ (build, emulator, cargo lambda watch + functions; the events each stage got, per tag)"
} | tee "$logs/summary.txt"
