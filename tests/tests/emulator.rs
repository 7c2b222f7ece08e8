//! The emulator harness itself: it starts, the Rust SDK reaches it, the project's
//! SageMaker uniqueness rule holds, and dropping it stops the process.

use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobError;
use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, MetricDefinition, OutputDataConfig, ResourceConfig, StoppingCondition,
    Tag, TrainingInputMode, TrainingInstanceType,
};
use integration::{Emulator, ACCOUNT_ID, REGION};

fn create_training_job(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
) -> aws_sdk_sagemaker::operation::create_training_job::builders::CreateTrainingJobFluentBuilder {
    client
        .create_training_job()
        .training_job_name(name)
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/sagemaker"))
        .algorithm_specification(
            AlgorithmSpecification::builder()
                .training_image(format!(
                    "{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/trainer:1"
                ))
                .training_input_mode(TrainingInputMode::File)
                .metric_definitions(
                    MetricDefinition::builder()
                        .name("validation:rmse")
                        .regex(r"rmse=(\S+)")
                        .build(),
                )
                .build(),
        )
        .output_data_config(
            OutputDataConfig::builder()
                .s3_output_path("s3://artifacts/out/")
                .build(),
        )
        .resource_config(
            ResourceConfig::builder()
                .instance_type(TrainingInstanceType::MlM5Xlarge)
                .instance_count(1)
                .volume_size_in_gb(30)
                .build(),
        )
        .stopping_condition(
            StoppingCondition::builder()
                .max_runtime_in_seconds(3600)
                .build(),
        )
        .hyper_parameters("eta", "0.2")
        .tags(Tag::builder().key("project").value("churn").build())
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

/// Linux only (procfs); elsewhere the port check above has to do.
fn process_exists(pid: u32) -> bool {
    cfg!(target_os = "linux") && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_training_job_is_resource_in_use_and_drop_stops_the_emulator() {
    let emulator = Emulator::start().await;
    let port = emulator.port();
    let pid = emulator.pid();
    assert_eq!(emulator.endpoint_url(), format!("http://127.0.0.1:{port}"));
    let client = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);

    let created = create_training_job(&client, "churn-1")
        .send()
        .await
        .expect("first CreateTrainingJob succeeds");
    let arn = created.training_job_arn().expect("ARN").to_string();
    assert_eq!(
        arn,
        format!("arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:training-job/churn-1")
    );

    let err = create_training_job(&client, "churn-1")
        .send()
        .await
        .expect_err("a second CreateTrainingJob with the same name fails");
    match err.into_service_error() {
        CreateTrainingJobError::ResourceInUse(e) => {
            let message = e.message().unwrap_or_default();
            assert!(message.contains(&arn), "message names the job: {message}");
        }
        other => panic!("expected ResourceInUse, got {other:?}"),
    }

    // The Rust SDK parses moto's DescribeTrainingJob, which echoes the request.
    let described = client
        .describe_training_job()
        .training_job_name("churn-1")
        .send()
        .await
        .expect("DescribeTrainingJob");
    let spec = described.algorithm_specification().expect("spec");
    assert_eq!(spec.training_input_mode(), Some(&TrainingInputMode::File));
    assert_eq!(spec.metric_definitions().len(), 1);
    assert_eq!(spec.metric_definitions()[0].name(), Some("validation:rmse"));
    assert_eq!(
        described.hyper_parameters().and_then(|h| h.get("eta")),
        Some(&"0.2".to_string())
    );
    let tags = client
        .list_tags()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), Some("project"));

    assert!(port_open(port));
    drop(emulator);
    assert!(!port_open(port), "port {port} still open after drop");
    assert!(
        !process_exists(pid),
        "launcher {pid} still exists after drop"
    );
}

#[tokio::test]
async fn emulators_are_independent() {
    let (a, b) = tokio::join!(Emulator::start(), Emulator::start());
    assert_ne!(a.port(), b.port());
    let client_a = aws_sdk_sagemaker::Client::new(&a.sdk_config().await);
    let client_b = aws_sdk_sagemaker::Client::new(&b.sdk_config().await);
    create_training_job(&client_a, "same-name")
        .send()
        .await
        .expect("created in a");
    create_training_job(&client_b, "same-name")
        .send()
        .await
        .expect("created in b: separate state");
}
