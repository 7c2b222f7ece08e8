#!/usr/bin/env bash
# End-to-end demo of trigger_model_training, entirely on this machine.
#
# A local AWS emulator (moto + tests/emulator's SageMaker rules) stands in for
# S3 and SageMaker, and `cargo lambda watch` runs the function's real binary
# under its Lambda runtime emulator. The demo invokes an ECR push event (a
# training job starts), the same event again (skipped: already started), and
# a push to another repository (skipped), then shows the one job created.
#
# Usage, from anywhere (needs only the Rust toolchain and python3):
#   bash scripts/demo.sh
# Everything started is stopped on exit, including on failure and Ctrl-C.
# Logs (build, emulator, cargo lambda watch + function): .demo/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs=.demo
rm -rf "$logs" && mkdir -p "$logs"
export PATH="$root/.venv/bin:$PATH" # the pinned cargo-lambda, for `cargo lambda`
started_at=$SECONDS
pids=() # background processes, each the leader of its own process group (setsid)

step() { printf '==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
fail() { # fail <message> [log...]
    printf '\nDEMO FAILED: %s\n' "$1" >&2
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
        # cargo lambda watch starts the function in a session of its own.
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

# Nothing of the user's own AWS setup applies: every client talks to the emulator.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

step "Python venv .venv (moto, boto3, cargo-lambda), from tests/emulator/requirements.txt"
bash tests/emulator/ensure-venv.sh || fail "tests/emulator/ensure-venv.sh failed"
version=$(cargo lambda --version) || fail "cargo lambda is missing from .venv/bin"
say "$version"

step "Building trigger_model_training (debug, as cargo lambda watch runs it; first time: minutes, log in .demo/)"
# Same command line as watch's `cargo run --bin ...`, so its own build is a no-op.
cargo build --bin trigger_model_training >"$logs/build.log" 2>&1 || fail "cargo build failed" "$logs/build.log"
say "$(tail -n 1 "$logs/build.log" | sed 's/^ *//')"

step "Starting the AWS emulator (S3 + SageMaker) on 127.0.0.1"
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
seeded=$(python scripts/seed_training_data.py "$bucket" data/train/) \
    || fail "could not upload the training data" "$logs/emulator.log"
say "$seeded"

# The function's configuration, as template.yaml would set it. cargo lambda
# watch passes its own environment on to the function, so plain `env` does it
# (its --env-var flag splits values at commas, which breaks the JSON ones).
# The AWS_* variables above (endpoint, test credentials, region) go along too.
function_env=(
    PIPELINE_NAME=mlops
    ECR_REPOSITORY_NAME=mlops-training
    SAGEMAKER_ROLE_ARN=arn:aws:iam::123456789012:role/mlops-sagemaker-execution
    TRAINING_CHANNELS='[{"name":"train","s3_uri":"s3://'"$bucket"'/data/train/","content_type":"text/csv"}]'
    TRAINING_OUTPUT_S3_URI="s3://$bucket/models/"
    TRAINING_HYPERPARAMETERS='{"epochs":"10"}'
    TRAINING_METRIC_DEFINITIONS='[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]'
)
invoke_port=$(free_port)
step "Starting trigger_model_training under cargo lambda watch on 127.0.0.1:$invoke_port"
env "${function_env[@]}" setsid cargo lambda watch --ignore-changes --timeout 60 \
    --invoke-address 127.0.0.1 --invoke-port "$invoke_port" </dev/null >"$logs/watch.log" 2>&1 &
pids+=($!)
wait_until 30 "cargo lambda watch" "$logs/watch.log" port_open "$invoke_port"

invoke() { # invoke <event file> <text the answer must contain>: sets $answer
    timeout 90 cargo lambda invoke trigger_model_training --data-file "$1" \
        --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
        </dev/null >"$logs/invoke.out" 2>"$logs/invoke.err" &
    local invoke_pid=$!
    # A function that fails its cold start leaves the call waiting for watch's --timeout: fail fast.
    while kill -0 "$invoke_pid" 2>/dev/null; do
        if grep -qE 'ERROR command (exited|killed)' "$logs/watch.log"; then
            kill "$invoke_pid" 2>/dev/null || true
            fail "the function process exited; its output is in $logs/watch.log" "$logs/watch.log"
        fi
        sleep 0.1
    done
    wait "$invoke_pid" || fail "invoking the function with $1 failed" "$logs/invoke.err" "$logs/watch.log"
    answer=$(<"$logs/invoke.out")
    say "-> $answer"
    [[ $answer == *"$2"* ]] || fail "expected $2 in the function's answer" "$logs/watch.log"
}

step "Invoking with events/ecr-push.json (mlops-training pushed): a training job starts"
invoke events/ecr-push.json '"action":"started"'
job_name=$(python -c 'import json, sys; print(json.loads(sys.argv[1])["training_job_name"])' "$answer")

step "Invoking with the same event again: skipped, the job is already started (idempotent)"
invoke events/ecr-push.json '"reason":"already started"'

step "Invoking with events/ecr-push-other-repository.json: skipped, not the configured repository"
invoke events/ecr-push-other-repository.json '"action":"skipped"'

step "The training job in the emulator's SageMaker (DescribeTrainingJob, ListTags)"
python scripts/show_training_job.py || fail "the emulator does not hold exactly the one expected training job"

cat <<EOF

Demo complete in $((SECONDS - started_at)) s.
    function        trigger_model_training, its debug binary run by cargo lambda watch
    first push      started training job $job_name
    same push       skipped: already started (one job per image digest)
    other repo      skipped
    emulator        moto on $AWS_ENDPOINT_URL: 1 training job, data in s3://$bucket/
    logs            $logs/ (build, emulator, cargo lambda watch + function)
EOF
