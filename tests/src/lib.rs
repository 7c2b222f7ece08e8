//! Test harness for the integration tests: a local AWS emulator per test.
//!
//! [`Emulator::start`] installs the project-local virtualenv when needed
//! (`tests/emulator/ensure-venv.sh`), starts `tests/emulator/launcher.py`
//! (moto's server plus the SageMaker rules in `tests/emulator/sagemaker_rules.py`)
//! on 127.0.0.1 and a free port, and waits for its `READY <port>` line.
//! Dropping the [`Emulator`] kills the process; its standard input stays piped
//! so that the launcher also stops if the test process dies without dropping it.
//!
//! ```no_run
//! # async fn example() {
//! let emulator = integration::Emulator::start().await;
//! let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
//! # }
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The region every client of the emulator uses.
pub const REGION: &str = "us-east-1";
/// Moto's default account id: it appears in the ARNs the emulator returns.
pub const ACCOUNT_ID: &str = "123456789012";

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
    /// the launcher and waits for `READY <port>`.
    ///
    /// # Panics
    /// With a message saying what failed: this is a test helper.
    pub async fn start() -> Emulator {
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
            .current_dir(&root)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
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
        aws_config::defaults(BehaviorVersion::latest())
            // Host variables (AWS_PROFILE, AWS_ENDPOINT_URL_*, ...) are ignored, and with
            // no HOME in that empty environment no profile file is read either.
            .empty_test_environment()
            .endpoint_url(self.endpoint_url())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
            .load()
            .await
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

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGKILL: moto keeps no state worth a graceful stop, and this never hangs.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
