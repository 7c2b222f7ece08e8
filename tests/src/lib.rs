//! Test harness for the integration tests: a local AWS emulator per test.
//!
//! [`Emulator::start`] installs the project-local virtualenv when needed
//! (`tests/emulator/ensure-venv.sh`), starts `tests/emulator/launcher.py`
//! (moto's server plus the SageMaker rules in `tests/emulator/sagemaker_rules.py`)
//! on 127.0.0.1 and a free port, and waits for its `READY <port>` line.
//! Dropping the [`Emulator`] kills the process; its standard input stays piped
//! so that the launcher also stops if the test process dies without dropping it.
//! [`Emulator::start_with_local_images`] does the same with the launcher's
//! `--local-images FILE`: the example models train and serve for real
//! (docs/local-sagemaker.md).
//!
//! ```no_run
//! # async fn example() {
//! let emulator = integration::Emulator::start().await;
//! let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
//! # }
//! ```

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The region every client of the emulator uses.
pub const REGION: &str = "us-east-1";
/// Moto's default account id: it appears in the ARNs the emulator returns.
pub const ACCOUNT_ID: &str = "123456789012";

/// The SDK attempts per call the functions make (`shared::aws::sdk_config`:
/// standard retry mode, the first attempt and two retries).
pub const MAX_ATTEMPTS: u32 = 3;

/// How long the launcher may take to report READY (it imports moto, ~1 s idle;
/// much more on a machine busy compiling).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running emulator process. Kill it by dropping.
pub struct Emulator {
    child: Child,
    /// Held open for the child's lifetime: the launcher exits when it closes.
    _stdin: ChildStdin,
    port: u16,
}

/// The repository root (the parent of this crate's directory, `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

impl Emulator {
    /// Installs the venv if needed (runs `tests/emulator/ensure-venv.sh`), starts
    /// the launcher and waits for `READY <port>`. No local images: every
    /// training job completes and every endpoint is InService at once
    /// (`EMULATOR_LOCAL_IMAGES` in this process's environment is not passed on).
    ///
    /// # Panics
    /// With a message saying what failed: this is a test helper.
    pub async fn start() -> Emulator {
        Emulator::launch(&[]).await
    }

    /// [`start`](Self::start) with the launcher's `--local-images FILE`: training
    /// jobs and endpoints whose image is in a repository the file names run that
    /// example's `train` and `serve` for real, and `InvokeEndpoint` reaches the
    /// endpoint's model server (docs/local-sagemaker.md; the file's format is
    /// there, `scripts/demo-local-images.json` is the demo's).
    ///
    /// # Panics
    /// When the file does not exist, and as [`start`](Self::start) does.
    pub async fn start_with_local_images(file: impl AsRef<Path>) -> Emulator {
        let file = file.as_ref();
        assert!(
            file.is_file(),
            "local-images file {} does not exist",
            file.display()
        );
        Emulator::launch(&[
            OsString::from("--local-images"),
            file.as_os_str().to_owned(),
        ])
        .await
    }

    /// Starts the launcher with `arguments` and waits for `READY <port>`.
    async fn launch(arguments: &[OsString]) -> Emulator {
        let root = repo_root();
        let emulator_dir = root.join("tests").join("emulator");

        let ensure = emulator_dir.join("ensure-venv.sh");
        let ensure_display = ensure.display().to_string();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .arg(&ensure)
                .stdin(Stdio::null())
                .output()
        })
        .await
        .expect("ensure-venv task panicked")
        .unwrap_or_else(|e| panic!("cannot run `bash {ensure_display}`: {e}"));
        if !output.status.success() {
            panic!(
                "`bash {ensure_display}` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }

        let python = root.join(".venv").join("bin").join("python");
        let launcher = emulator_dir.join("launcher.py");
        let mut child = Command::new(&python)
            .arg(&launcher)
            .args(arguments)
            .current_dir(&root)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            // Local images only when asked for (`--local-images`).
            .env_remove("EMULATOR_LOCAL_IMAGES")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{} {}`: {e}",
                    python.display(),
                    launcher.display()
                )
            });
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");

        // The launcher writes nothing to stdout after READY, so the pipe can be
        // dropped once that line is read.
        let read_ready = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line = match tokio::time::timeout(READY_TIMEOUT, read_ready).await {
            Ok(joined) => joined.expect("READY reader panicked"),
            Err(_) => {
                // Killing the child ends the blocked read, so the reader thread ends too.
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "emulator launcher did not report READY within {READY_TIMEOUT:?}; see its stderr above"
                );
            }
        };
        let port = line
            .as_ref()
            .ok()
            .and_then(|line| line.strip_prefix("READY "))
            .and_then(|port| port.trim().parse::<u16>().ok());
        match port {
            Some(port) => Emulator {
                child,
                _stdin: stdin,
                port,
            },
            None => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "emulator launcher did not start (first stdout line {line:?}, exit {status:?}); \
                     see its stderr above"
                );
            }
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the emulator listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The launcher's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SDK configuration for the emulator: its endpoint, region us-east-1 and static
    /// dummy credentials (test/test). No environment variable, profile file or IMDS
    /// is consulted.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.loader().load().await
    }

    /// [`sdk_config`](Self::sdk_config) with the functions' retry policy
    /// (`shared::aws::sdk_config`: standard mode, [`MAX_ATTEMPTS`] attempts)
    /// but a 1 ms initial backoff instead of the SDK's 1 s, so that tests which
    /// inject throttling or 5xx ([`inject_fault`](Self::inject_fault)) see
    /// every retry without waiting for it.
    pub async fn sdk_config_fast_retries(&self) -> SdkConfig {
        self.loader()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(20)),
            )
            .load()
            .await
    }

    fn loader(&self) -> aws_config::ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            // Host variables (AWS_PROFILE, AWS_ENDPOINT_URL_*, ...) are ignored, and with
            // no HOME in that empty environment no profile file is read either.
            .empty_test_environment()
            .endpoint_url(self.endpoint_url())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
    }

    /// Environment variables that point a separate process (an SDK-based binary,
    /// the AWS CLI, `cargo lambda`, ...) at this emulator.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint_url()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

impl Emulator {
    /// Calls the launcher's test-control API (`/_emulator/...`, see
    /// tests/emulator/README.md): plain HTTP/1.1 with a JSON body, answered
    /// with the JSON the launcher returns. Panics on a non-2xx status.
    pub fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> serde_json::Value {
        use std::io::{Read, Write};
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .expect("connect to the emulator");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .expect("send the control request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the control response");
        let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.split_whitespace().nth(1).unwrap_or("");
        assert!(
            status.starts_with('2'),
            "{method} {path} answered {head}\n{payload}"
        );
        serde_json::from_str(payload).unwrap_or(serde_json::Value::Null)
    }
}

/// One AWS API call the emulator received (`GET /_emulator/calls`, see
/// tests/emulator/faults.py).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The SigV4 signing name: `sagemaker`, `s3`, `events`, `sqs`,
    /// `application-autoscaling`, ...
    pub service: String,
    /// The API operation: `CreateTrainingJob`, `GetObject`, `PutEvents`, ...
    pub operation: String,
    /// The HTTP status answered (`None` while the call was in flight).
    pub status: Option<u16>,
    /// Whether the answer was an injected fault.
    pub fault: bool,
}

/// A fault for [`Emulator::inject_fault`]: matching calls fail with the error
/// the real service sends (`POST /_emulator/faults`, see tests/emulator/README.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    body: serde_json::Map<String, serde_json::Value>,
}

impl Fault {
    /// `operation` fails with HTTP 400 `ThrottlingException` ("Rate exceeded"),
    /// as SageMaker, EventBridge and Application Auto Scaling throttle.
    pub fn throttling(operation: &str) -> Fault {
        Fault::new(operation, 400, "ThrottlingException", "Rate exceeded")
    }

    /// `operation` fails with a 5xx: 500 `InternalFailure`, 503
    /// `ServiceUnavailable` (S3: `InternalError`, `SlowDown`), other statuses
    /// `InternalFailure`.
    pub fn server_error(operation: &str, status: u16) -> Fault {
        let mut fault = Fault::new(operation, status, "", "");
        fault.body.remove("code");
        fault.body.remove("message");
        fault
    }

    /// Any error: HTTP `status` (400-599), `code` and `message`.
    pub fn new(operation: &str, status: u16, code: &str, message: &str) -> Fault {
        let mut body = serde_json::Map::new();
        body.insert("operation".into(), operation.into());
        body.insert("status".into(), status.into());
        body.insert("code".into(), code.into());
        body.insert("message".into(), message.into());
        Fault { body }
    }

    /// Calls to `service` (signing name) beyond `per_second` fail with its
    /// throttling error, as an account's request-rate quota does; calls
    /// within the rate go through.
    pub fn rate_limit(service: &str, per_second: u32) -> Fault {
        let mut body = serde_json::Map::new();
        body.insert("service".into(), service.into());
        body.insert("rate".into(), per_second.into());
        Fault { body }
    }

    /// Only calls to this service (signing name: `sagemaker`, `s3`, ...).
    pub fn service(mut self, service: &str) -> Fault {
        self.body.insert("service".into(), service.into());
        self
    }

    /// How many matching calls fail before the fault clears itself (without
    /// it: every matching call until [`Emulator::clear_faults`]).
    pub fn count(mut self, count: u32) -> Fault {
        self.body.insert("count".into(), count.into());
        self
    }

    /// Lets the first `skip` matching calls through.
    pub fn skip(mut self, skip: u32) -> Fault {
        self.body.insert("skip".into(), skip.into());
        self
    }

    /// A lost answer: the call reaches the emulator and does its work, then
    /// the client gets the error instead of the answer.
    pub fn after(mut self) -> Fault {
        self.body.insert("after".into(), true.into());
        self
    }
}

impl Emulator {
    /// Every AWS call the emulator received since it started (or since
    /// [`reset_calls`](Self::reset_calls)), in order, as (service, operation).
    pub fn calls(&self) -> Vec<(String, String)> {
        self.call_log()
            .into_iter()
            .map(|call| (call.service, call.operation))
            .collect()
    }

    /// [`calls`](Self::calls) with the status answered and whether it was a fault.
    pub fn call_log(&self) -> Vec<Call> {
        let answer = self.control("GET", "/_emulator/calls", None);
        answer["calls"]
            .as_array()
            .expect("GET /_emulator/calls answers {\"calls\": [...]}")
            .iter()
            .map(|call| Call {
                service: call["service"].as_str().unwrap_or_default().to_string(),
                operation: call["operation"].as_str().unwrap_or_default().to_string(),
                status: call["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
                fault: call["fault"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// How many calls of `operation` (any service) the emulator received.
    pub fn count_calls(&self, operation: &str) -> usize {
        self.call_log()
            .iter()
            .filter(|call| call.operation == operation)
            .count()
    }

    /// Forgets the calls received so far.
    pub fn reset_calls(&self) {
        self.control("DELETE", "/_emulator/calls", None);
    }

    /// Adds a fault; faults apply in the order they were added.
    pub fn inject_fault(&self, fault: Fault) {
        self.control(
            "POST",
            "/_emulator/faults",
            Some(&serde_json::Value::Object(fault.body)),
        );
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.control("DELETE", "/_emulator/faults", None);
    }

    /// The faults still active (`GET /_emulator/faults`), each with its `remaining` count.
    pub fn faults(&self) -> Vec<serde_json::Value> {
        self.control("GET", "/_emulator/faults", None)["faults"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGKILL: moto keeps no state worth a graceful stop, and this never hangs.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
