//! Helpers for the functions' tests (feature `test-util`): the sample events
//! in `events/`, a Lambda invocation around a payload, and AWS error
//! responses for aws-smithy-mocks.

use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// The sample event `events/<name>`, parsed.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A batch from an SQS queue, as Lambda's event source mapping delivers it:
/// the record of `events/sqs-s3-object-created.json` once per body, with
/// message ids `m0`, `m1`, ...
pub fn sqs_batch(bodies: &[String]) -> Value {
    let record = &sample("sqs-s3-object-created.json")["Records"][0];
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = record.clone();
            record["messageId"] = format!("m{i}").into();
            record["body"] = body.clone().into();
            record
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// An invocation of the handler with `payload`, as the runtime makes it.
pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// An AWS JSON-protocol error response: HTTP `status`, error `code`, `message`.
pub fn aws_error(status: u16, code: &str, message: &str) -> Response {
    Response::new(
        StatusCode::try_from(status).expect("a valid HTTP status"),
        SdkBody::from(serde_json::json!({"__type": code, "message": message}).to_string()),
    )
}

/// A stand-in for the Lambda Runtime API and a way to run a function's real
/// binary against it, to test its cold start: what a bad environment reports
/// (`POST /2018-06-01/runtime/init/error`), and that a good one gets as far as
/// asking for its first event (`GET /2018-06-01/runtime/invocation/next`).
pub mod runtime_api {
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    use serde_json::Value;

    pub const NEXT_INVOCATION_PATH: &str = "/2018-06-01/runtime/invocation/next";
    pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
    /// `POST <this><request id>/response` (or `/error`): an invocation's answer.
    pub const INVOCATION_PATH: &str = "/2018-06-01/runtime/invocation/";

    /// How long a function's binary may take to exit or ask for its first
    /// event before the test fails (a debug build starts in well under a second).
    pub const COLD_START_TIMEOUT: Duration = Duration::from_secs(30);

    /// One request the Runtime API received.
    #[derive(Debug, Clone)]
    pub struct Request {
        pub method: String,
        pub path: String,
        /// Names in lower case.
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Request {
        /// The value of header `name` (any case).
        pub fn header(&self, name: &str) -> Option<&str> {
            let name = name.to_ascii_lowercase();
            self.headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        }

        /// The body as JSON.
        pub fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!(
                    "{} {} body is not JSON ({e}): {:?}",
                    self.method,
                    self.path,
                    String::from_utf8_lossy(&self.body)
                )
            })
        }

        pub fn is(&self, method: &str, path: &str) -> bool {
            self.method == method && self.path == path
        }
    }

    #[derive(Default)]
    struct Log {
        requests: Mutex<Vec<Request>>,
        arrived: Condvar,
        /// Events still to hand out on `GET .../invocation/next`, in order.
        events: Mutex<std::collections::VecDeque<Value>>,
    }

    /// The Runtime API on 127.0.0.1 (a free port), as a Lambda sandbox serves
    /// it: `POST .../init/error` is accepted (202); `GET .../invocation/next`
    /// answers the events given to [`FakeRuntimeApi::with_events`] one by one
    /// (request ids `request-1`, `request-2`, ...), then is held without an
    /// answer, as Lambda holds it until an event comes; an invocation's
    /// `POST .../invocation/<id>/response` or `/error` is accepted (202);
    /// anything else is a 404. Every request is recorded.
    pub struct FakeRuntimeApi {
        address: String,
        log: Arc<Log>,
        stop: Arc<AtomicBool>,
        acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
    }

    impl FakeRuntimeApi {
        pub fn start() -> FakeRuntimeApi {
            FakeRuntimeApi::with_events(Vec::new())
        }

        /// A Runtime API that hands out `events`, then holds.
        pub fn with_events(events: Vec<Value>) -> FakeRuntimeApi {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let address = listener.local_addr().expect("local address").to_string();
            // Non-blocking, so that `finish` can stop accepting once the backlog is drained.
            listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
            let log = Arc::new(Log {
                events: Mutex::new(events.into()),
                ..Log::default()
            });
            let stop = Arc::new(AtomicBool::new(false));
            let acceptor = {
                let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
                thread::spawn(move || {
                    let mut connections = Vec::new();
                    loop {
                        match listener.accept() {
                            Ok((stream, _)) => {
                                let log = Arc::clone(&log);
                                connections.push(thread::spawn(move || serve(stream, &log)));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                if stop.load(Ordering::SeqCst) {
                                    return connections;
                                }
                                thread::sleep(Duration::from_millis(5));
                            }
                            Err(e) => panic!("accept: {e}"),
                        }
                    }
                })
            };
            FakeRuntimeApi {
                address,
                log,
                stop,
                acceptor: Some(acceptor),
            }
        }

        /// `127.0.0.1:<port>`, the form of `AWS_LAMBDA_RUNTIME_API`.
        pub fn address(&self) -> &str {
            &self.address
        }

        /// Whether a `method path` request has arrived, waiting up to `timeout`.
        pub fn wait_for(&self, method: &str, path: &str, timeout: Duration) -> bool {
            self.wait_until(timeout, |r| r.is(method, path), 1)
        }

        /// Whether `count` requests that `matches` took have arrived, waiting
        /// up to `timeout`.
        pub fn wait_until(
            &self,
            timeout: Duration,
            matches: impl Fn(&Request) -> bool,
            count: usize,
        ) -> bool {
            let deadline = Instant::now() + timeout;
            let mut requests = self.log.requests.lock().unwrap();
            loop {
                if requests.iter().filter(|r| matches(r)).count() >= count {
                    return true;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                requests = self.log.arrived.wait_timeout(requests, left).unwrap().0;
            }
        }

        /// Every request received, in order, once the client is gone: stops
        /// accepting after the connections already made, and waits for each to
        /// be read to its end, so that no request still in flight is missed.
        pub fn finish(mut self) -> Vec<Request> {
            self.stop.store(true, Ordering::SeqCst);
            let connections = self.acceptor.take().unwrap().join().expect("acceptor");
            for connection in connections {
                connection.join().expect("connection");
            }
            std::mem::take(&mut *self.log.requests.lock().unwrap())
        }
    }

    impl Drop for FakeRuntimeApi {
        /// Stops accepting (a test that failed before `finish`).
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// One connection: requests read and answered in turn until the client
    /// closes it (a process that exited or was killed).
    fn serve(stream: TcpStream, log: &Log) {
        stream.set_nonblocking(false).expect("blocking connection");
        // A bound for a client that neither sends nor closes (a bug in a test).
        stream
            .set_read_timeout(Some(COLD_START_TIMEOUT * 2))
            .expect("read timeout");
        let mut writer = stream.try_clone().expect("clone connection");
        let mut reader = BufReader::new(stream);
        let mut handed_out = 0;
        while let Some(request) = read_request(&mut reader) {
            let accepted = || Some(("202 Accepted", String::new(), r#"{"status":"OK"}"#.into()));
            let answer: Option<(&str, String, String)> =
                match (request.method.as_str(), request.path.as_str()) {
                    ("POST", INIT_ERROR_PATH) => accepted(),
                    ("GET", NEXT_INVOCATION_PATH) => {
                        // The next event, if any; else held, as Lambda holds it.
                        log.events.lock().unwrap().pop_front().map(|event| {
                            handed_out += 1;
                            ("200 OK", event_headers(handed_out), event.to_string())
                        })
                    }
                    ("POST", path) if path.starts_with(INVOCATION_PATH) => accepted(),
                    _ => Some((
                        "404 Not Found",
                        String::new(),
                        r#"{"errorMessage":"not found"}"#.into(),
                    )),
                };
            {
                let mut requests = log.requests.lock().unwrap();
                requests.push(request);
                log.arrived.notify_all();
            }
            if let Some((status, headers, body)) = answer {
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if writer.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }

    /// The headers of the `n`th event handed out: what lambda_runtime reads
    /// into the invocation's context (a deadline a minute away).
    fn event_headers(n: usize) -> String {
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + 60_000)
            .unwrap_or_default();
        format!(
            "Lambda-Runtime-Aws-Request-Id: request-{n}\r\n\
             Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:under-test\r\n\
             Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
        )
    }

    /// One HTTP/1.1 request (`Content-Length` or chunked body); `None` at the
    /// end of the connection.
    fn read_request(reader: &mut impl BufRead) -> Option<Request> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let mut body = Vec::new();
        if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size).ok()?;
                let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
                let mut chunk = vec![0; size + 2]; // and its CRLF
                reader.read_exact(&mut chunk).ok()?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = header("content-length") {
            body = vec![0; length.parse().ok()?];
            reader.read_exact(&mut body).ok()?;
        }
        Some(Request {
            method,
            path,
            headers,
            body,
        })
    }

    /// What the Lambda execution environment (provided.al2023) gives a
    /// function that lambda_runtime needs, plus a region and static dummy
    /// credentials so that the SDK looks nothing up (no IMDS, no profile).
    pub fn lambda_environment(function_name: &str, runtime_api: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("LANG", "C.UTF-8"),
            ("TZ", ":UTC"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// How one cold start of a function's binary went.
    #[derive(Debug)]
    pub struct ColdStart {
        /// `Some` when the process exited by itself; `None` when it asked for
        /// its first event and was then killed.
        pub exit: Option<ExitStatus>,
        /// What the Runtime API received, in order.
        pub requests: Vec<Request>,
        /// stdout then stderr, for failure messages.
        pub output: String,
    }

    impl ColdStart {
        pub fn requests_to(&self, method: &str, path: &str) -> Vec<&Request> {
            self.requests
                .iter()
                .filter(|r| r.is(method, path))
                .collect()
        }

        pub fn asked_for_an_event(&self) -> bool {
            !self.requests_to("GET", NEXT_INVOCATION_PATH).is_empty()
        }

        /// The cold start failed as Lambda should see it: exactly one request,
        /// `POST /2018-06-01/runtime/init/error` with header
        /// `Lambda-Runtime-Function-Error-Type: <error_type>` and body
        /// `{"errorType": <error_type>, "errorMessage": "…<message_part>…"}`;
        /// no event asked for; the process exited by itself with status 1
        /// (`main` returned the error: not a panic, not a signal); and the
        /// error is in its log.
        pub fn assert_init_error(&self, error_type: &str, message_part: &str) {
            assert!(!self.asked_for_an_event(), "asked for an event: {self:#?}");
            let posts = self.requests_to("POST", INIT_ERROR_PATH);
            assert_eq!(posts.len(), 1, "one init error expected: {self:#?}");
            assert_eq!(
                self.requests.len(),
                1,
                "no other request expected: {self:#?}"
            );
            let post = posts[0];
            assert_eq!(
                post.header("Lambda-Runtime-Function-Error-Type"),
                Some(error_type),
                "{self:#?}"
            );
            let body = post.json();
            assert_eq!(body["errorType"], error_type, "{body}");
            let message = body["errorMessage"].as_str().unwrap_or_default();
            assert!(
                message.contains(message_part),
                "errorMessage {message:?} does not contain {message_part:?}"
            );
            let status = self
                .exit
                .unwrap_or_else(|| panic!("did not exit: {self:#?}"));
            assert_eq!(status.code(), Some(1), "{status}; output:\n{}", self.output);
            assert!(
                self.output.contains(message_part),
                "the log does not say {message_part:?}:\n{}",
                self.output
            );
        }

        /// The cold start succeeded: the process asked for its first event
        /// (and was still running), having reported no init error.
        pub fn assert_ready_for_events(&self) {
            assert!(
                self.asked_for_an_event(),
                "never asked for an event: {self:#?}"
            );
            assert_eq!(self.exit, None, "exited: {self:#?}");
            assert!(
                self.requests_to("POST", INIT_ERROR_PATH).is_empty(),
                "reported an init error: {self:#?}"
            );
        }
    }

    /// Runs `binary` with only [`lambda_environment`] and `env` (nothing of the
    /// test's own environment), against a fresh [`FakeRuntimeApi`], until it
    /// exits or asks for its first event (then it is killed). A process that
    /// does neither within [`COLD_START_TIMEOUT`] is killed and fails the test.
    pub fn cold_start(binary: &str, env: &[(&str, &str)]) -> ColdStart {
        let api = FakeRuntimeApi::start();
        let mut process = Process::spawn(binary, api.address(), env);
        let deadline = Instant::now() + COLD_START_TIMEOUT;
        let exit = loop {
            if let Some(status) = process.child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if api.wait_for("GET", NEXT_INVOCATION_PATH, Duration::from_millis(20)) {
                process.kill();
                break None;
            }
            if Instant::now() > deadline {
                process.kill();
                let output = process.output();
                let requests = api.finish();
                panic!(
                    "{binary} neither exited nor asked for an event within {COLD_START_TIMEOUT:?}; \
                     requests: {requests:?}; output:\n{output}"
                );
            }
        };
        let output = process.output();
        ColdStart {
            exit,
            requests: api.finish(),
            output,
        }
    }

    /// How a function's binary handled events.
    #[derive(Debug)]
    pub struct Invoked {
        /// What the Runtime API received, in order: each event's answer is a
        /// `POST .../invocation/<request id>/response` or `/error`.
        pub requests: Vec<Request>,
        /// The function's log (what Lambda sends to CloudWatch Logs).
        pub stdout: String,
        pub stderr: String,
    }

    impl Invoked {
        /// The log's lines that are JSON objects.
        pub fn json_lines(&self) -> Vec<Value> {
            self.stdout
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(Value::is_object)
                .collect()
        }

        /// The log's metrics: each line with `_aws` checked against the
        /// Embedded Metric Format ([`crate::metrics::check_document`]), then
        /// summed up as `<Stage> <Name>[<Dimension>=<value>]=<value>`, one per
        /// metric and document, sorted.
        pub fn metrics(&self) -> Vec<String> {
            let documents: Vec<Value> = self
                .json_lines()
                .into_iter()
                .filter(|line| line.get("_aws").is_some())
                .collect();
            let mut found = Vec::new();
            for document in &documents {
                if let Err(problem) = crate::metrics::check_document(document) {
                    panic!("not an EMF document ({problem}): {document}");
                }
                let directives = document["_aws"]["CloudWatchMetrics"].as_array().unwrap();
                for directive in directives {
                    assert_eq!(directive["Namespace"], crate::metrics::NAMESPACE);
                    let sets = directive["Dimensions"].as_array().unwrap();
                    let longest = sets
                        .iter()
                        .filter_map(Value::as_array)
                        .max_by_key(|s| s.len());
                    let extra: Vec<String> = longest
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .filter(|d| !matches!(*d, "Pipeline" | "Stage"))
                        .map(|d| format!("[{d}={}]", document[d].as_str().unwrap_or_default()))
                        .collect();
                    for metric in directive["Metrics"].as_array().unwrap() {
                        let name = metric["Name"].as_str().unwrap();
                        found.push(format!(
                            "{} {name}{}={}",
                            document["Stage"].as_str().unwrap_or_default(),
                            extra.concat(),
                            document[name]
                        ));
                    }
                }
            }
            found.sort();
            found
        }
    }

    /// An event no function takes: its invocation fails with
    /// `NonRetryable.InvalidEvent`.
    pub fn not_an_event() -> Value {
        serde_json::json!({"not": "an event"})
    }

    /// Runs `binary` with `env` on `events` ([`invoke`]) and checks that its
    /// log's metrics, each document well formed, are `expected`
    /// ([`Invoked::metrics`]).
    pub fn assert_metrics_in_log(
        binary: &str,
        env: &[(&str, &str)],
        events: Vec<Value>,
        expected: &[&str],
    ) {
        let invoked = invoke(binary, env, events);
        assert_eq!(invoked.metrics(), expected, "{}", invoked.stdout);
    }

    /// Runs `binary` as [`cold_start`] does and hands it `events`, one
    /// invocation each; once it has answered them all it is killed. A
    /// process that exits or has not answered within [`COLD_START_TIMEOUT`]
    /// fails the test.
    pub fn invoke(binary: &str, env: &[(&str, &str)], events: Vec<Value>) -> Invoked {
        let count = events.len();
        let api = FakeRuntimeApi::with_events(events);
        let mut process = Process::spawn(binary, api.address(), env);
        let answered = |r: &Request| r.method == "POST" && r.path.starts_with(INVOCATION_PATH);
        let deadline = Instant::now() + COLD_START_TIMEOUT;
        loop {
            if api.wait_until(Duration::from_millis(20), answered, count) {
                break;
            }
            let exited = process.child.try_wait().expect("try_wait");
            if exited.is_some() || Instant::now() > deadline {
                if exited.is_none() {
                    process.kill();
                }
                let output = process.output();
                let requests = api.finish();
                panic!("{binary} did not answer {count} events ({exited:?}); requests: {requests:?}; output:\n{output}");
            }
        }
        process.kill();
        let (stdout, stderr) = process.streams();
        Invoked {
            requests: api.finish(),
            stdout,
            stderr,
        }
    }

    /// Runs `binary` as [`cold_start`] does, but with `AWS_LAMBDA_RUNTIME_API`
    /// at a port where nothing listens, until it exits: its exit status and
    /// output. A process still running after [`COLD_START_TIMEOUT`] is killed
    /// and fails the test.
    pub fn cold_start_without_runtime_api(
        binary: &str,
        env: &[(&str, &str)],
    ) -> (ExitStatus, String) {
        // A port that was free a moment ago.
        let closed = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .to_string();
        let mut process = Process::spawn(binary, &closed, env);
        let deadline = Instant::now() + COLD_START_TIMEOUT;
        loop {
            if let Some(status) = process.child.try_wait().expect("try_wait") {
                return (status, process.output());
            }
            if Instant::now() > deadline {
                process.kill();
                panic!(
                    "{binary} still running after {COLD_START_TIMEOUT:?} with no Runtime API; output:\n{}",
                    process.output()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The three cold-start tests of a function, for its `tests/cold_start.rs`:
    /// `shared::cold_start_tests!(ColdStartCases { binary, good, bad });`.
    #[macro_export]
    macro_rules! cold_start_tests {
        ($cases:expr) => {
            const CASES: $crate::test_support::runtime_api::ColdStartCases = $cases;

            #[test]
            fn a_bad_environment_is_reported_to_lambda_as_the_init_error() {
                CASES.assert_bad_environments_are_init_errors();
            }

            #[test]
            fn a_bad_environment_still_exits_when_the_runtime_api_is_unreachable() {
                CASES.assert_bad_environment_exits_without_runtime_api();
            }

            #[test]
            fn a_good_environment_asks_for_the_first_event() {
                CASES.assert_good_environment_asks_for_an_event();
            }
        };
    }

    /// One function's cold-start cases: its binary, an environment it starts
    /// with, and bad ones: a variable of `good` unset (`None`) or set to a
    /// bad value, with what the error message says about it.
    pub struct ColdStartCases {
        pub binary: &'static str,
        pub good: &'static [(&'static str, &'static str)],
        pub bad: &'static [(&'static str, Option<&'static str>, &'static str)],
    }

    impl ColdStartCases {
        /// Every bad environment is reported to Lambda as the init error,
        /// `NonRetryable.InvalidConfig` naming the variable.
        pub fn assert_bad_environments_are_init_errors(&self) {
            for &(variable, value, problem) in self.bad {
                println!("{variable} = {value:?}");
                cold_start(self.binary, &self.environment(variable, value))
                    .assert_init_error("NonRetryable.InvalidConfig", problem);
            }
        }

        /// A bad environment exits with status 1 even when the report cannot
        /// be made, and says so.
        pub fn assert_bad_environment_exits_without_runtime_api(&self) {
            let (variable, value, problem) = self.bad[0];
            let env = self.environment(variable, value);
            let (status, output) = cold_start_without_runtime_api(self.binary, &env);
            assert_eq!(status.code(), Some(1), "{status}; output:\n{output}");
            assert!(output.contains(problem), "{output}");
            assert!(
                output.contains("could not report the init error"),
                "{output}"
            );
        }

        /// The good environment gets as far as asking for the first event.
        pub fn assert_good_environment_asks_for_an_event(&self) {
            cold_start(self.binary, self.good).assert_ready_for_events();
        }

        /// `good` with `variable` set to `value` (`None`: unset).
        fn environment(
            &self,
            variable: &'static str,
            value: Option<&'static str>,
        ) -> Vec<(&'static str, &'static str)> {
            let mut env: Vec<_> = self
                .good
                .iter()
                .copied()
                .filter(|(k, _)| *k != variable)
                .collect();
            env.extend(value.map(|v| (variable, v)));
            env
        }
    }

    /// A function's binary running, its stdout and stderr read as they come
    /// (so that it never blocks on a full pipe).
    struct Process {
        child: Child,
        stdout: JoinHandle<String>,
        stderr: JoinHandle<String>,
    }

    impl Process {
        fn spawn(binary: &str, runtime_api: &str, env: &[(&str, &str)]) -> Process {
            let name = std::path::Path::new(binary)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut vars: HashMap<String, String> =
                lambda_environment(&name, runtime_api).into_iter().collect();
            vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            let mut child = Command::new(binary)
                .env_clear()
                .envs(vars)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{binary}: {e}"));
            let stdout = drain(child.stdout.take().expect("stdout"));
            let stderr = drain(child.stderr.take().expect("stderr"));
            Process {
                child,
                stdout,
                stderr,
            }
        }

        fn kill(&mut self) {
            self.child.kill().expect("kill");
            self.child.wait().expect("wait");
        }

        /// stdout then stderr, once the process is gone.
        fn output(self) -> String {
            let (stdout, stderr) = self.streams();
            format!("{stdout}{stderr}")
        }

        /// stdout and stderr, once the process is gone.
        fn streams(self) -> (String, String) {
            let stdout = self.stdout.join().unwrap_or_default();
            let stderr = self.stderr.join().unwrap_or_default();
            (stdout, stderr)
        }
    }

    fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
}
