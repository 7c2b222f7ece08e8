#!/usr/bin/env bash
# End-to-end demo of the pipeline, entirely on this machine: two image pushes,
# each trained, evaluated, registered, approved and deployed.
#
# A local AWS emulator (moto + tests/emulator's rules) stands in for S3,
# SageMaker, EventBridge and SQS, and one `cargo lambda watch` runs the four
# functions' real binaries under its Lambda runtime emulator. What AWS would do
# between them (SageMaker finishing a job, a user approving a version, the
# state-change events) scripts/demo_aws.py does against the emulator:
#
#   v1.2.0  trigger_model_training  ECR push -> training job (a repeated push and
#                                   another repository's push: skipped)
#           the job completes       evaluation.json in its output.tar.gz, and
#                                   SageMaker's "Training Job State Change" event
#           evaluate_model_function thresholds pass; the "Model Evaluation Completed"
#                                   event arrives through an EventBridge rule on SQS
#           register_model_in_registry  that event -> model package version 1, pending
#           approval                UpdateModelPackage Approved, and SageMaker's
#                                   "Model Package State Change" event
#           deploy_sagemaker_model  -> endpoint created
#   v1.3.0  the same chain          -> version 2, endpoint updated blue/green (canary)
#
# Usage, from anywhere (needs only the Rust toolchain and python3):
#   bash scripts/demo.sh
# Everything started is stopped on exit, including on failure and Ctrl-C.
# Logs and the events handed to the functions: .demo/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs=.demo
rm -rf "$logs" && mkdir -p "$logs"
export PATH="$root/.venv/bin:$PATH" # the pinned cargo-lambda and the venv's python
started_at=$SECONDS
pids=()    # background processes, each the leader of its own process group (setsid)
summary=() # "label|result", one per stage, printed at the end
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

step "Building the four functions (debug, as cargo lambda watch runs them; first time: minutes, log in .demo/)"
# Builds what watch's `cargo run --bin <function>` needs, so its own builds are no-ops.
cargo build --bins >"$logs/build.log" 2>&1 || fail "cargo build failed" "$logs/build.log"
say "$(tail -n 1 "$logs/build.log" | sed 's/^ *//')"

step "Starting the AWS emulator (S3, SageMaker, EventBridge, SQS) on 127.0.0.1"
setsid python tests/emulator/launcher.py --host 127.0.0.1 --ignore-stdin \
    </dev/null >"$logs/emulator.out" 2>"$logs/emulator.log" &
pids+=($!)
wait_until 60 "the emulator" "$logs/emulator.log" grep -q '^READY ' "$logs/emulator.out"
emulator_port=$(awk '/^READY/ { print $2 }' "$logs/emulator.out")
export AWS_ENDPOINT_URL="http://127.0.0.1:$emulator_port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
say "$AWS_ENDPOINT_URL"

bucket=mlops-demo-data
step "Uploading sample training data (CSV) to the training channel s3://$bucket/data/train/"
demo_aws seed-data "$bucket" data/train/

queue=mlops-passed-evaluations
step "Subscribing to passed evaluations, as your infrastructure would: an EventBridge rule feeding SQS queue $queue"
demo_aws subscribe "$queue" mlops-passed-evaluations

# The functions' configuration, as template.yaml would set it; the four read
# different variables except the shared ones, which agree (PIPELINE_NAME,
# SAGEMAKER_ROLE_ARN, EVENT_SOURCE), so one environment serves them all.
# cargo lambda watch passes its own environment on to each function, so plain
# `env` does it (its --env-var flag splits values at commas, which breaks the
# JSON and threshold ones). The AWS_* variables above go along too.
role_arn=arn:aws:iam::123456789012:role/mlops-sagemaker-execution
thresholds="regression_metrics.rmse <= 3.5, regression_metrics.r2 >= 0.8"
function_env=(
    PIPELINE_NAME=mlops
    SAGEMAKER_ROLE_ARN="$role_arn"
    # trigger_model_training
    ECR_REPOSITORY_NAME=mlops-training
    TRAINING_CHANNELS='[{"name":"train","s3_uri":"s3://'"$bucket"'/data/train/","content_type":"text/csv"}]'
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
)
invoke_port=$(free_port)
step "Starting cargo lambda watch (serves all four functions) on 127.0.0.1:$invoke_port"
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
    say "-> $answer"
    python scripts/demo_aws.py expect "$answer" "$@" 2>"$logs/expect.err" \
        || fail "$function: $(<"$logs/expect.err")" "$logs/watch.log"
}
field() { # field <key>: of the last answer
    python scripts/demo_aws.py field "$answer" "$1" 2>"$logs/field.err" || fail "$(<"$logs/field.err")"
}

# release <tag> <ECR push event> <rmse> <r2> <deploy action>: one image through the whole chain.
release() {
    local tag=$1 push=$2 rmse=$3 r2=$4 deploy_action=$5
    local dir="$logs/$tag" job_name event_id package_arn version endpoint_config first=false
    [[ $tag == v1.2.0 ]] && first=true

    stage="$tag trigger"
    step "[$tag] trigger_model_training with $push (mlops-training:$tag pushed): a training job starts"
    invoke trigger_model_training "$push" action=started
    job_name=$(field training_job_name)
    if $first; then
        step "[$tag] The same event again: skipped, the job is already started (idempotent)"
        invoke trigger_model_training "$push" action=skipped 'reason=already started'
        step "[$tag] events/ecr-push-other-repository.json: skipped, not the configured repository"
        invoke trigger_model_training events/ecr-push-other-repository.json action=skipped
        step "[$tag] The training job in the emulator's SageMaker (DescribeTrainingJob, ListTags)"
        demo_aws training-job "$job_name" 1
        done_stage "$tag trigger" "started $job_name; same push again: skipped; other repository: skipped"
    else
        done_stage "$tag trigger" "started $job_name"
    fi

    stage="$tag job completes"
    step "[$tag] The job completes: its output uploaded where SageMaker puts it, and SageMaker's state-change event"
    demo_aws job-output "$job_name" "$rmse" "$r2"
    demo_aws training-event "$job_name" events/training-job-completed.json "$dir/training-job-completed.json"
    done_stage "$tag job output" "evaluation.json (rmse $rmse, r2 $r2) in output.tar.gz"

    stage="$tag evaluate"
    step "[$tag] evaluate_model_function ($thresholds): passed, an event is published"
    invoke evaluate_model_function "$dir/training-job-completed.json" action=evaluated passed=true
    event_id=$(field event_id)
    step "[$tag] The \"Model Evaluation Completed\" event, received from the SQS queue the rule feeds"
    demo_aws receive "$queue" "$event_id" "$dir/model-evaluation-completed.json"
    done_stage "$tag evaluate" "passed; event $event_id delivered by the rule to SQS"

    stage="$tag register"
    step "[$tag] register_model_in_registry with that event: a new version, pending approval"
    invoke register_model_in_registry "$dir/model-evaluation-completed.json" \
        action=registered approval_status=PendingManualApproval
    package_arn=$(field model_package_arn)
    version=$(field version)
    step "[$tag] The model package (DescribeModelPackage)"
    demo_aws model-package "$package_arn"
    done_stage "$tag register" "model package mlops--models version $version, PendingManualApproval"

    stage="$tag approve"
    step "[$tag] A user approves version $version (UpdateModelPackage), and SageMaker emits its state change"
    demo_aws approve "$package_arn"
    demo_aws package-event "$package_arn" events/model-package-approved.json "$dir/model-package-approved.json"
    done_stage "$tag approve" "version $version Approved"

    stage="$tag deploy"
    step "[$tag] deploy_sagemaker_model with that event: endpoint $deploy_action"
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
}

release v1.2.0 events/ecr-push.json 2.9 0.91 created

stage="v1.3.0 push"
step "[v1.3.0] A new training image is pushed: $logs/v1.3.0/ecr-push.json (from events/ecr-push.json, another digest)"
demo_aws push-event events/ecr-push.json "$logs/v1.3.0/ecr-push.json" v1.3.0
release v1.3.0 "$logs/v1.3.0/ecr-push.json" 2.4 0.94 updated

stage="summary"
census=$(python scripts/demo_aws.py census 2>"$logs/aws.err") || fail "$(tail -n 1 "$logs/aws.err")" "$logs/aws.err"

printf '\nDemo complete in %s s.\n' "$((SECONDS - started_at))"
for line in "${summary[@]}"; do printf '    %-18s %s\n' "${line%%|*}" "${line#*|}"; done
printf '    %-18s %s\n' \
    functions "4 debug binaries, run by one cargo lambda watch" \
    emulator "moto on $AWS_ENDPOINT_URL: $census" \
    logs "$logs/ (build, emulator, cargo lambda watch + functions; the events each stage got, per tag)"
