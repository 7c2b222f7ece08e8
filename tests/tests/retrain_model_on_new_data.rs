//! retrain_model_on_new_data end to end, as deployed: S3's "Object Created"
//! events in the function's SQS queue, delivered in batches to the real
//! handler by the emulator's event source mapping (batch size, batching
//! window, maximum concurrency and partial batch failures from template.yaml),
//! the handler's burst schedules fired by the emulator's EventBridge Scheduler
//! into the same queue, SageMaker's and the Scheduler's calls throttled at 10
//! per second. A burst of objects over a simulated ten minutes, some messages
//! delivered twice, starts exactly one training job once it has gone quiet;
//! a later burst starts a second.
//!
//! `make test` runs 10,000 objects; `make bench` runs the same test for
//! 1,000, 10,000 and 100,000 (`RETRAIN_BURST_OBJECTS`), and reads the line
//! `BURST {...}` it prints.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

mod common;
use common::*;

use chrono::{DateTime, Duration, Utc};
use integration::{repo_root, Emulator, Fault, ACCOUNT_ID, REGION};
use lambda_runtime::{Context, LambdaEvent};
use retrain_model_on_new_data::{handle, Clients, RetrainConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const DEAD_LETTERS: &str = "mlops-retrain-dead-letters";
/// The per-account rate SageMaker's and the Scheduler's control planes are
/// throttled at here.
const CALLS_PER_SECOND: u32 = 10;
/// The simulated time the burst's objects arrive over.
const BURST_MINUTES: i64 = 10;

/// The retrain function behind a stand-in for Lambda's Invoke API
/// (`POST /2015-03-31/functions/<name>/invocations`), counting invocations
/// and how many run at once.
struct Function {
    address: String,
    invocations: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl Function {
    async fn start(clients: Arc<Clients>, config: Arc<RetrainConfig>) -> Function {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let function = Function {
            address,
            invocations: Arc::default(),
            running: Arc::default(),
            most_at_once: Arc::default(),
        };
        let (invocations, running, most) = (
            function.invocations.clone(),
            function.running.clone(),
            function.most_at_once.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (clients, config) = (clients.clone(), config.clone());
                let (invocations, running, most) =
                    (invocations.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    invocations.fetch_add(1, Ordering::SeqCst);
                    serve(stream, &clients, &config).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        function
    }

    fn invocations(&self) -> usize {
        self.invocations.load(Ordering::SeqCst)
    }

    fn most_at_once(&self) -> usize {
        self.most_at_once.load(Ordering::SeqCst)
    }
}

/// One invocation: the request's JSON event to the handler, its answer back
/// (a handler error as Lambda reports one: `X-Amz-Function-Error`).
async fn serve(stream: TcpStream, clients: &Clients, config: &RetrainConfig) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .await
        .expect("the invocation's body");
    let event: Value = serde_json::from_slice(&body).expect("the event is JSON");
    let answer = handle(clients, config, LambdaEvent::new(event, Context::default())).await;
    let (header, payload) = match answer {
        Ok(outcome) => ("", serde_json::to_vec(&outcome).expect("the outcome")),
        Err(err) => (
            "X-Amz-Function-Error: Unhandled\r\n",
            json!({"errorType": err.error_type(), "errorMessage": err.to_string()})
                .to_string()
                .into_bytes(),
        ),
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    let mut stream = reader.into_inner();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&payload).await;
}

/// The emulator's queues as the template declares them: retrain's queue,
/// with its dead-letter queue after 5 receives.
async fn queues(sqs: &aws_sdk_sqs::Client, emulator: &Emulator) -> (String, String) {
    let dead_letters = sqs
        .create_queue()
        .queue_name(DEAD_LETTERS)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a URL");
    let queue = retrain_setup(emulator).await;
    let redrive = json!({
        "deadLetterTargetArn": format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{DEAD_LETTERS}"),
        "maxReceiveCount": "5",
    });
    sqs.set_queue_attributes()
        .queue_url(&queue)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            redrive.to_string(),
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "60",
        )
        .send()
        .await
        .expect("SetQueueAttributes");
    (queue, dead_letters)
}

/// Messages in a queue, visible or in flight.
async fn messages_in(sqs: &aws_sdk_sqs::Client, queue: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName::{
        ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
    };
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(ApproximateNumberOfMessages)
        .attribute_names(ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes");
    attributes
        .attributes()
        .map(|a| a.values().map(|v| v.parse::<usize>().unwrap_or(0)).sum())
        .unwrap_or(0)
}

/// Sends the "Object Created" events of `count` objects under `folder`, in
/// order, spread evenly over `BURST_MINUTES` from `start`, ten per
/// `SendMessageBatch`; every 50th batch is sent twice. Returns the newest
/// event time.
async fn send_burst(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    folder: &str,
    start: DateTime<Utc>,
    count: usize,
) -> DateTime<Utc> {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    let span = Duration::minutes(BURST_MINUTES).num_milliseconds();
    let time = |i: usize| start + Duration::milliseconds(span * i as i64 / count as i64);
    let indexes: Vec<usize> = (0..count).collect();
    for (n, chunk) in indexes.chunks(10).enumerate() {
        let entries = chunk
            .iter()
            .map(|&i| {
                let key = format!("data/train/{folder}/part-{i:06}.csv");
                SendMessageBatchRequestEntry::builder()
                    .id(format!("o{i}"))
                    .message_body(object_created(&key, &instant(time(i))).to_string())
                    .build()
                    .expect("an entry")
            })
            .collect::<Vec<_>>();
        let repeats = if n % 50 == 7 { 2 } else { 1 };
        for _ in 0..repeats {
            let sent = sqs
                .send_message_batch()
                .queue_url(queue)
                .set_entries(Some(entries.clone()))
                .send()
                .await
                .expect("SendMessageBatch");
            assert!(sent.failed().is_empty(), "{:?}", sent.failed());
        }
    }
    time(count - 1)
}

/// Waits until `condition` holds, checking every 200 ms, for at most `limit`.
async fn wait_for<F, Fut>(what: &str, limit: StdDuration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

/// Sets the emulator's scheduler clock to `time`.
fn scheduler_clock(emulator: &Emulator, time: DateTime<Utc>) {
    emulator.control(
        "POST",
        "/_emulator/clock",
        Some(&json!({"now": instant(time)})),
    );
}

/// Calls to the throttled control planes: the function's own, as long as the
/// test itself only reads SQS and the emulator's control API.
fn control_plane_calls(emulator: &Emulator) -> usize {
    emulator
        .call_log()
        .iter()
        .filter(|call| call.service == "sagemaker" || call.service == "scheduler")
        .count()
}

/// Whether the emulator answered a `CreateTrainingJob` with success `n`
/// times (read from its call log: no SageMaker call of the test's own).
fn jobs_started(emulator: &Emulator) -> usize {
    emulator
        .call_log()
        .iter()
        .filter(|call| call.operation == "CreateTrainingJob" && call.status == Some(200))
        .count()
}

/// The objects of one burst, from the first event to the job started; the
/// figures it prints.
async fn burst(objects: usize) -> Value {
    let emulator = Emulator::start().await;
    let sdk = emulator.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (queue, dead_letters) = queues(&sqs, &emulator).await;
    let clients = Arc::new(retrain_clients(&emulator).await);
    let config = Arc::new(retrain_config());
    let function = Function::start(clients.clone(), config.clone()).await;
    emulator.inject_fault(Fault::rate_limit("sagemaker", CALLS_PER_SECOND));
    emulator.inject_fault(Fault::rate_limit("scheduler", CALLS_PER_SECOND));
    emulator.reset_calls();

    // An hour ahead of the machine's clock: the function moves a due time
    // in the past to now, and the burst is all in the scheduler's future.
    let start = minute_from_now(60);
    scheduler_clock(&emulator, start);
    let sending = Instant::now();
    let newest = send_burst(&sqs, &queue, "burst-1", start, objects).await;
    let sent_in = sending.elapsed();
    // Then the template's event source mapping: a backlog, read by as many
    // invocations at once as it allows. The batching window is short so that
    // the test does not wait a minute per batch.
    let mapping = emulator.control(
        "POST",
        "/_emulator/lambda/event-source-mappings",
        Some(&json!({
            "Template": repo_root().join("template.yaml"),
            "FunctionLogicalId": "RetrainModelOnNewDataFunction",
            "Parameters": {
                "EcrRepositoryName": "mlops-training",
                "RetrainBatchingWindowSeconds": "1",
            },
            "EventSourceArn": RETRAIN_QUEUE_ARN,
            "FunctionName": "retrain_model_on_new_data",
            "Endpoint": function.address,
        })),
    );
    let maximum_concurrency = mapping["ScalingConfig"]["MaximumConcurrency"]
        .as_u64()
        .expect("the template sets a maximum concurrency") as usize;
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let long = StdDuration::from_secs(900);
    let (sqs_ref, queue_ref, emulator_ref) = (&sqs, queue.as_str(), &emulator);
    let drained = move || async move { messages_in(sqs_ref, queue_ref).await == 0 };
    wait_for("the burst to be read", long, drained).await;

    // A minute after the last object, the schedules of the burst's earlier
    // batches fall due: more data came after each, so none starts a job.
    scheduler_clock(&emulator, newest + Duration::minutes(1));
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    wait_for("the early schedules to be read", long, drained).await;
    assert_eq!(jobs_started(&emulator), 0);

    // The quiet period after the last object: the job.
    let quiet = newest + config.quiet + Duration::minutes(1);
    scheduler_clock(&emulator, quiet);
    let firing = Instant::now();
    wait_for("the burst's job", long, move || async move {
        jobs_started(emulator_ref) > 0
    })
    .await;
    let to_job = firing.elapsed();
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    wait_for("the firings to be read", long, drained).await;
    let calls = control_plane_calls(&emulator);
    let throttled = emulator.call_log().iter().filter(|c| c.fault).count();
    let fired = emulator.control("GET", "/_emulator/scheduler/fired", None)["fired"]
        .as_array()
        .map_or(0, Vec::len);

    assert!(retrain_schedules(&emulator).await.is_empty());
    let jobs = training_jobs(&clients.sagemaker).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = clients
        .sagemaker
        .describe_training_job()
        .training_job_name(&jobs[0])
        .send()
        .await
        .expect("DescribeTrainingJob");
    // Its data is the whole dataset prefix, read after the burst's last object.
    let source = job.input_data_config()[0]
        .data_source()
        .and_then(|d| d.s3_data_source())
        .expect("an S3 channel");
    assert_eq!(source.s3_uri(), Some("s3://mlops-data/data/train/"));
    let tags = clients
        .sagemaker
        .list_tags()
        .resource_arn(job.training_job_arn().expect("an ARN"))
        .send()
        .await
        .expect("ListTags");
    let burst_tag = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some("mlops:burst"))
        .and_then(|t| t.value())
        .expect("the burst tag");
    let (first, due) = burst_tag.split_once('/').expect("<first>/<due>");
    assert_eq!(first, instant(start));
    let due: DateTime<Utc> = due.parse().expect("a due time");
    assert!(due >= newest + config.quiet, "{burst_tag}");

    assert_eq!(messages_in(&sqs, &dead_letters).await, 0);
    assert!(calls <= 1000, "{calls} control-plane calls");
    assert!(
        function.most_at_once() <= maximum_concurrency,
        "{} invocations at once, the maximum is {maximum_concurrency}",
        function.most_at_once()
    );
    let mappings = emulator.control("GET", "/_emulator/lambda/event-source-mappings", None);
    let stats = &mappings["EventSourceMappings"][0]["Stats"];
    assert!(stats["MaxConcurrencySeen"].as_u64().unwrap_or(0) as usize <= maximum_concurrency);
    let figures = json!({
        "objects": objects,
        "messages_sent_seconds": sent_in.as_secs_f64(),
        "invocations": function.invocations(),
        "largest_batch": stats["LargestBatch"],
        "most_at_once": function.most_at_once(),
        "maximum_concurrency": maximum_concurrency,
        "control_plane_calls": calls,
        "throttled_calls": throttled,
        "schedules_fired": fired,
        "simulated_seconds_last_object_to_due": (due - newest).num_seconds(),
        "seconds_due_to_job": to_job.as_secs_f64(),
    });
    println!("BURST {figures}");

    // A second burst after the quiet period: a second job.
    let start = quiet + Duration::minutes(30);
    scheduler_clock(&emulator, start);
    let newest = send_burst(&sqs, &queue, "burst-2", start, 200).await;
    wait_for("the second burst to be read", long, drained).await;
    scheduler_clock(&emulator, newest + config.quiet + Duration::minutes(1));
    wait_for("the second burst's job", long, move || async move {
        jobs_started(emulator_ref) == 2
    })
    .await;
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    wait_for("the queue to be empty", long, drained).await;
    assert_eq!(training_jobs(&clients.sagemaker).await.len(), 2);
    assert_eq!(messages_in(&sqs, &dead_letters).await, 0);
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_ten_thousand_objects_starts_one_job_once_quiet_and_the_next_burst_another() {
    let figures = burst(10_000).await;
    // The backlog is read by as many invocations at once as the template allows.
    assert_eq!(figures["most_at_once"], figures["maximum_concurrency"]);
}

/// `make bench`: the same with `RETRAIN_BURST_OBJECTS` objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "make bench runs it, with RETRAIN_BURST_OBJECTS"]
async fn bench_burst() {
    let objects = std::env::var("RETRAIN_BURST_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    burst(objects).await;
}
