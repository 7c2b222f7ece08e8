//! What each invocation did, as CloudWatch metrics in the Embedded Metric
//! Format (EMF): JSON lines on stdout that CloudWatch Logs turns into metrics
//! as it ingests the function's log. No API call, nothing added to latency.
//!
//! Every metric is in the namespace [`NAMESPACE`] with the dimensions
//! `Pipeline` and `Stage`. A metric counted by class (skips by `Reason`,
//! failures by `ErrorType`) is published under `[Pipeline, Stage]` and under
//! `[Pipeline, Stage, <class>]`, so totals and the breakdown both exist; a
//! value per name (`ModelQuality` by `Metric`) only under the latter. The
//! classes are small fixed sets, so a pipeline has a few dozen metrics.
//!
//! A document, as the format's specification asks
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
//!
//! ```json
//! {"_aws": {"Timestamp": 1764470000000,
//!           "CloudWatchMetrics": [{"Namespace": "MLOpsPipeline",
//!                                  "Dimensions": [["Pipeline", "Stage"], ["Pipeline", "Stage", "Reason"]],
//!                                  "Metrics": [{"Name": "Skipped", "Unit": "Count"}]}]},
//!  "Pipeline": "mlops", "Stage": "trigger", "Reason": "already_done", "Skipped": 1}
//! ```
//!
//! Each function's outcome says what it measured ([`Measured`]); `main` hands
//! every result to [`Emf::observe`], which writes the documents.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::PipelineError;

/// The CloudWatch namespace of every pipeline metric.
pub const NAMESPACE: &str = "MLOpsPipeline";

/// The stage of the chain a function is; the `Stage` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Trigger,
    Retrain,
    Evaluate,
    Register,
    Deploy,
    Serve,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Trigger => "trigger",
            Stage::Retrain => "retrain",
            Stage::Evaluate => "evaluate",
            Stage::Register => "register",
            Stage::Deploy => "deploy",
            Stage::Serve => "serve",
        }
    }
}

/// Metric names shared by every stage.
pub mod names {
    /// The stage did its work: a job started, a verdict published, a version
    /// registered, a deployment made.
    pub const STARTED: &str = "Started";
    /// An event that led to nothing, also by `Reason` (a [`SkipClass`](crate::events::SkipClass)).
    pub const SKIPPED: &str = "Skipped";
    /// A failed invocation (or message, or request), also by `ErrorType`.
    pub const FAILED: &str = "Failed";
}

/// A CloudWatch unit (the ones the pipeline uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
    /// A model's metric: its own unit, unknown here.
    None,
}

/// The metrics one result is worth, built by its [`Measured`] impl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    entries: Vec<Entry>,
    properties: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: String,
    value: f64,
    unit: Unit,
    /// The third dimension, and whether the metric is also published
    /// without it.
    by: Option<(&'static str, String, bool)>,
}

impl Measures {
    /// `value` of a count under `[Pipeline, Stage]`.
    pub fn count(self, name: &str, value: usize) -> Self {
        self.add(name, value as f64, Unit::Count, None)
    }

    /// A count under `[Pipeline, Stage]` and `[Pipeline, Stage, dimension]`.
    pub fn count_by(self, name: &str, value: usize, dimension: &'static str, class: &str) -> Self {
        let by = Some((dimension, class.to_string(), true));
        self.add(name, value as f64, Unit::Count, by)
    }

    /// A value under `[Pipeline, Stage, dimension]` only: values of different
    /// `dimension`s do not add up.
    pub fn value_by(
        self,
        name: &str,
        value: f64,
        unit: Unit,
        dimension: &'static str,
        of: &str,
    ) -> Self {
        self.add(name, value, unit, Some((dimension, of.to_string(), false)))
    }

    /// Counts of the same metric add up; zero counts and values that are not
    /// numbers are left out (CloudWatch takes neither NaN nor infinity).
    fn add(
        mut self,
        name: &str,
        value: f64,
        unit: Unit,
        by: Option<(&'static str, String, bool)>,
    ) -> Self {
        if !value.is_finite() || (unit == Unit::Count && value == 0.0) {
            return self;
        }
        match self
            .entries
            .iter_mut()
            .find(|e| e.name == name && e.by == by)
        {
            Some(entry) if unit == Unit::Count => entry.value += value,
            Some(entry) => entry.value = value,
            None => self.entries.push(Entry {
                name: name.to_string(),
                value,
                unit,
                by,
            }),
        }
        self
    }

    /// One skip, by its class.
    pub fn skipped(self, class: crate::events::SkipClass) -> Self {
        self.count_by(names::SKIPPED, 1, "Reason", class.as_str())
    }

    /// `value` failures of one error type.
    pub fn failed(self, value: usize, error_type: &str) -> Self {
        self.count_by(names::FAILED, value, "ErrorType", error_type)
    }

    /// Context for the log reader, not a dimension: the job, the version.
    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(key.to_string(), value.into());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What a result is worth in metrics.
pub trait Measured {
    fn measures(&self) -> Measures;
}

impl Measured for PipelineError {
    fn measures(&self) -> Measures {
        Measures::default().failed(1, self.error_type())
    }
}

impl<T: Measured, E: Measured> Measured for Result<T, E> {
    fn measures(&self) -> Measures {
        match self {
            Ok(value) => value.measures(),
            Err(err) => err.measures(),
        }
    }
}

/// The metrics writer of one function, built at cold start.
#[derive(Debug, Clone)]
pub struct Emf {
    pipeline: String,
    stage: Stage,
}

impl Emf {
    pub fn new(pipeline: impl ToString, stage: Stage) -> Emf {
        Emf {
            pipeline: pipeline.to_string(),
            stage,
        }
    }

    /// Writes what `result` measured to stdout, then gives it back.
    pub fn observe<R: Measured>(&self, result: R) -> R {
        self.write(&result.measures(), &mut std::io::stdout().lock());
        result
    }

    /// Writes the documents, one JSON line each. A line that cannot be
    /// written is logged: metrics never fail an invocation.
    pub fn write(&self, measures: &Measures, out: &mut impl Write) {
        for document in self.documents(measures, now_millis()) {
            if let Err(err) = writeln!(out, "{document}") {
                tracing::warn!(error = %err, "could not write the metrics");
            }
        }
    }

    /// The EMF documents of `measures`: one per third-dimension value (a
    /// document's dimension values are its top-level members, one each).
    pub fn documents(&self, measures: &Measures, timestamp_millis: u128) -> Vec<Value> {
        let mut groups: BTreeMap<Option<(&'static str, &str)>, Vec<&Entry>> = BTreeMap::new();
        for entry in &measures.entries {
            let key = entry.by.as_ref().map(|(d, v, _)| (*d, v.as_str()));
            groups.entry(key).or_default().push(entry);
        }
        groups
            .into_iter()
            .map(|(by, entries)| {
                self.document(by, &entries, &measures.properties, timestamp_millis)
            })
            .collect()
    }

    fn document(
        &self,
        by: Option<(&'static str, &str)>,
        entries: &[&Entry],
        properties: &BTreeMap<String, Value>,
        timestamp_millis: u128,
    ) -> Value {
        let mut root: Map<String, Value> = properties.clone().into_iter().collect();
        let base = ["Pipeline", "Stage"];
        let mut directives = Vec::new();
        // Entries with one dimension set, then those with both; a name
        // appears once in a document.
        let (rolled_up, only_by): (Vec<&&Entry>, Vec<&&Entry>) = entries
            .iter()
            .partition(|e| e.by.as_ref().is_none_or(|(_, _, both)| *both));
        for (group, dimension_sets) in [
            (
                rolled_up,
                match by {
                    None => vec![base.to_vec()],
                    Some((dimension, _)) => vec![base.to_vec(), [&base[..], &[dimension]].concat()],
                },
            ),
            (
                only_by,
                by.map(|(dimension, _)| vec![[&base[..], &[dimension]].concat()])
                    .unwrap_or_default(),
            ),
        ] {
            if group.is_empty() {
                continue;
            }
            let metrics: Vec<Value> = group
                .iter()
                .map(|e| json!({"Name": e.name, "Unit": e.unit}))
                .collect();
            directives.push(json!({
                "Namespace": NAMESPACE,
                "Dimensions": dimension_sets,
                "Metrics": metrics,
            }));
            for entry in group {
                let value = match entry.unit {
                    // Counts are whole: written as integers.
                    Unit::Count => json!(entry.value as u64),
                    Unit::None => json!(entry.value),
                };
                root.insert(entry.name.clone(), value);
            }
        }
        root.insert("Pipeline".into(), json!(self.pipeline));
        root.insert("Stage".into(), json!(self.stage.as_str()));
        if let Some((dimension, value)) = by {
            root.insert(dimension.into(), json!(value));
        }
        root.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp_millis, "CloudWatchMetrics": directives}),
        );
        Value::Object(root)
    }
}

/// The units the format allows (CloudWatch's `StandardUnit`).
#[cfg(any(test, feature = "test-util"))]
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks `document` against the Embedded Metric Format specification
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>)
/// and CloudWatch's limits: `_aws` with an integer `Timestamp` and
/// `CloudWatchMetrics` directives; each directive a `Namespace` (1 to 255
/// characters), `Dimensions` (sets of at most 30 names, each a top-level
/// member with a string value of 1 to 1024 characters) and 1 to 100
/// `Metrics` (`Name` 1 to 255 characters, a top-level member that is a
/// number or an array of at most 100 numbers; `Unit`, when given, a
/// CloudWatch unit; `StorageResolution` 1 or 60). The first problem found.
#[cfg(any(test, feature = "test-util"))]
pub fn check_document(document: &Value) -> Result<(), String> {
    let root = document.as_object().ok_or("not a JSON object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    match aws.get("Timestamp") {
        Some(t) if t.is_u64() => {}
        other => return Err(format!("_aws.Timestamp is not an integer: {other:?}")),
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("_aws.CloudWatchMetrics is not an array")?;
    if directives.is_empty() {
        return Err("_aws.CloudWatchMetrics is empty".into());
    }
    let chars = |v: &str, max: usize| (1..=max).contains(&v.chars().count());
    for directive in directives {
        let namespace = directive["Namespace"]
            .as_str()
            .ok_or("a directive has no Namespace")?;
        if !chars(namespace, 255) || namespace.trim().is_empty() {
            return Err(format!("Namespace {namespace:?}"));
        }
        let sets = directive["Dimensions"]
            .as_array()
            .ok_or("Dimensions is not an array")?;
        for set in sets {
            let names = set.as_array().ok_or("a dimension set is not an array")?;
            if names.len() > 30 {
                return Err(format!("a dimension set has {} names", names.len()));
            }
            for name in names {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                match root.get(name).and_then(Value::as_str) {
                    Some(value) if chars(value, 1024) && chars(name, 255) => {}
                    other => return Err(format!("dimension {name:?} has value {other:?}")),
                }
            }
        }
        let metrics = directive["Metrics"]
            .as_array()
            .ok_or("Metrics is not an array")?;
        if !(1..=100).contains(&metrics.len()) {
            return Err(format!("{} metrics in a directive", metrics.len()));
        }
        for metric in metrics {
            let name = metric["Name"].as_str().ok_or("a metric has no Name")?;
            if !chars(name, 255) {
                return Err(format!("metric name {name:?}"));
            }
            let numeric = match root.get(name) {
                Some(Value::Number(_)) => true,
                Some(Value::Array(values)) => {
                    values.len() <= 100 && values.iter().all(Value::is_number)
                }
                _ => false,
            };
            if !numeric {
                return Err(format!("metric {name:?} has value {:?}", root.get(name)));
            }
            if let Some(unit) = metric.get("Unit") {
                if !unit.as_str().is_some_and(|u| UNITS.contains(&u)) {
                    return Err(format!("metric {name:?} has unit {unit}"));
                }
            }
            if let Some(resolution) = metric.get("StorageResolution") {
                if resolution != 1 && resolution != 60 {
                    return Err(format!(
                        "metric {name:?} has StorageResolution {resolution}"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::SkipClass;

    fn emf() -> Emf {
        Emf::new("mlops", Stage::Evaluate)
    }

    #[test]
    fn a_count_is_one_document_under_pipeline_and_stage() {
        let documents = emf().documents(&Measures::default().count("Started", 1), 7);
        assert_eq!(
            documents,
            vec![json!({
                "_aws": {"Timestamp": 7, "CloudWatchMetrics": [{
                    "Namespace": "MLOpsPipeline",
                    "Dimensions": [["Pipeline", "Stage"]],
                    "Metrics": [{"Name": "Started", "Unit": "Count"}],
                }]},
                "Pipeline": "mlops",
                "Stage": "evaluate",
                "Started": 1,
            })]
        );
    }

    #[test]
    fn classes_get_a_document_each_and_are_rolled_up() {
        let measures = Measures::default()
            .count("EvaluationsPassed", 1)
            .failed(2, "Retryable.AwsTransient")
            .skipped(SkipClass::AlreadyDone)
            .value_by("ModelQuality", 0.5, Unit::None, "Metric", "validation:rmse")
            .value_by("ModelQuality", 0.9, Unit::None, "Metric", "validation:r2")
            .property("training_job", "job-1");
        let documents = emf().documents(&measures, 1);
        assert_eq!(documents.len(), 5);
        for document in &documents {
            check_document(document).unwrap_or_else(|e| panic!("{e}: {document}"));
        }
        let skipped = documents
            .iter()
            .find(|d| d["Reason"] == "already_done")
            .unwrap();
        assert_eq!(skipped["Skipped"], 1.0);
        assert_eq!(
            skipped["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Pipeline", "Stage"], ["Pipeline", "Stage", "Reason"]])
        );
        assert_eq!(skipped["training_job"], "job-1");
        let rmse = documents
            .iter()
            .find(|d| d["Metric"] == "validation:rmse")
            .unwrap();
        assert_eq!(rmse["ModelQuality"], 0.5);
        assert_eq!(
            rmse["_aws"]["CloudWatchMetrics"],
            json!([{"Namespace": "MLOpsPipeline",
                    "Dimensions": [["Pipeline", "Stage", "Metric"]],
                    "Metrics": [{"Name": "ModelQuality", "Unit": "None"}]}])
        );
        let failed = documents
            .iter()
            .find(|d| d.get("ErrorType").is_some())
            .unwrap();
        assert_eq!(failed["Failed"], 2.0);
    }

    #[test]
    fn nothing_measured_writes_nothing() {
        let measures = Measures::default().count("Started", 0).value_by(
            "ModelQuality",
            f64::NAN,
            Unit::None,
            "Metric",
            "x",
        );
        assert!(measures.is_empty());
        let mut out = Vec::new();
        emf().write(&measures, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn an_error_is_a_failure_of_its_type() {
        let result: Result<Measures, PipelineError> = Err(PipelineError::invalid_event("x"));
        let mut out = Vec::new();
        emf().write(&result.measures(), &mut out);
        let line: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["ErrorType"], "NonRetryable.InvalidEvent");
        assert_eq!(line["Failed"], 1.0);
    }

    #[test]
    fn the_checker_finds_what_the_format_forbids() {
        let good = emf().documents(&Measures::default().skipped(SkipClass::Waiting), 1)[0].clone();
        check_document(&good).unwrap();
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut document = good.clone();
            edit(&mut document);
            check_document(&document).expect_err(&document.to_string())
        };
        broken(&|d| d["Reason"] = json!(3));
        broken(&|d| d["Skipped"] = json!("1"));
        broken(&|d| d["_aws"]["Timestamp"] = json!("now"));
        broken(&|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things"));
        broken(&|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!(""));
        broken(&|d| d["_aws"]["CloudWatchMetrics"] = json!([]));
        broken(&|d| {
            d.as_object_mut().unwrap().remove("Stage");
        });
    }

    impl Measured for Measures {
        fn measures(&self) -> Measures {
            self.clone()
        }
    }
}
