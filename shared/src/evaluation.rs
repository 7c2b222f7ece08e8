//! Model evaluation: metric thresholds, the metrics of a finished training
//! job, and the "Model Evaluation Completed" event that carries the verdict
//! from evaluate_model_function to register_model_in_registry.
//!
//! The event's detail carries everything the next stage needs, so it never
//! looks the job up again.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use aws_sdk_sagemaker::types::TrainingJobStatus;
use serde::{Deserialize, Serialize};

/// `detail-type` of the pipeline's own evaluation event.
pub const MODEL_EVALUATION_COMPLETED: &str = "Model Evaluation Completed";

/// The evaluation event's source is the pipeline's own (`EVENT_SOURCE`).
impl crate::events::Detail for ModelEvaluation {
    const DETAIL_TYPE: &'static str = MODEL_EVALUATION_COMPLETED;
    const SOURCE: Option<&'static str> = None;
}

/// The `detail` of a "Model Evaluation Completed" event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEvaluation {
    pub pipeline: String,
    pub training_job_name: String,
    pub training_job_arn: String,
    /// `Completed`, `Failed` or `Stopped`.
    #[serde(with = "crate::events::sdk_enum")]
    pub training_job_status: TrainingJobStatus,
    /// The training image, pinned by digest.
    #[serde(default)]
    pub image: Option<String>,
    /// `s3://…/model.tar.gz`; absent when the job produced none.
    #[serde(default)]
    pub model_artifacts: Option<String>,
    /// The metrics found: the job's final metrics by name, and the report's
    /// by dotted path, as many as the event holds (see
    /// [`JobMetrics::for_event`]). Non-finite values are left out (JSON has
    /// no NaN).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// How many metrics the event leaves out; `evaluation_report` has them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub metrics_omitted: usize,
    /// Each configured threshold with its actual value and verdict.
    #[serde(default)]
    pub thresholds: Vec<ThresholdVerdict>,
    pub passed: bool,
    /// Why not passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The stored copy of the evaluation report, when the job wrote one.
    #[serde(default)]
    pub evaluation_report: Option<String>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A comparison a threshold makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::Above => ">",
            Comparison::AtMost => "<=",
            Comparison::Below => "<",
        }
    }

    /// NaN compares false with everything, so it never passes.
    fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => actual >= threshold,
            Comparison::Above => actual > threshold,
            Comparison::AtMost => actual <= threshold,
            Comparison::Below => actual < threshold,
        }
    }
}

/// One configured rule: `metric op value`, e.g. `validation:rmse <= 3.5`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// A final-metric name, or a dotted path into the evaluation report.
    pub metric: String,
    pub comparison: Comparison,
    pub value: f64,
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(text: &str) -> Result<Threshold, String> {
        // Two-character operators first, so `<=` is not read as `<` and `=…`.
        let (at, comparison, len) = [
            (">=", Comparison::AtLeast),
            ("<=", Comparison::AtMost),
            (">", Comparison::Above),
            ("<", Comparison::Below),
        ]
        .iter()
        .find_map(|(symbol, comparison)| {
            text.find(symbol).map(|at| (at, *comparison, symbol.len()))
        })
        .ok_or_else(|| {
            format!("{text:?} has no comparison; write `metric >= value` (or >, <=, <)")
        })?;
        let metric = text[..at].trim();
        let value = text[at + len..].trim();
        if metric.is_empty() {
            return Err(format!("{text:?} names no metric"));
        }
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{text:?}: {value:?} is not a finite number"))?;
        Ok(Threshold {
            metric: metric.to_string(),
            comparison,
            value,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.metric,
            self.comparison.symbol(),
            self.value
        )
    }
}

/// A threshold applied to what the job produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdVerdict {
    pub metric: String,
    pub comparison: Comparison,
    pub threshold: f64,
    /// The value found; absent when the metric is missing or not a number.
    #[serde(default)]
    pub actual: Option<f64>,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Threshold {
    pub fn check(&self, actual: Option<f64>) -> ThresholdVerdict {
        let (passed, reason) = match actual {
            None => (false, Some(format!("metric {} not found", self.metric))),
            Some(v) if v.is_nan() => (false, Some(format!("metric {} is NaN", self.metric))),
            Some(v) if self.comparison.holds(v, self.value) => (true, None),
            Some(v) => (
                false,
                Some(format!("{} = {v}, required {self}", self.metric)),
            ),
        };
        ThresholdVerdict {
            metric: self.metric.clone(),
            comparison: self.comparison,
            threshold: self.value,
            actual: actual.filter(|v| v.is_finite()),
            passed,
            reason,
        }
    }
}

/// Parses a threshold list: rules separated by `,`, `;` or new lines.
pub fn parse_thresholds(text: &str) -> Result<Vec<Threshold>, String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(str::parse)
        .collect()
}

/// The metrics of one job: final metrics by name, report values by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobMetrics {
    pub final_metrics: BTreeMap<String, f64>,
    pub report: BTreeMap<String, f64>,
}

impl JobMetrics {
    /// A final metric by name first, then a report value by dotted path.
    pub fn get(&self, metric: &str) -> Option<f64> {
        self.final_metrics
            .get(metric)
            .or_else(|| self.report.get(metric))
            .copied()
    }

    /// Every finite metric (final metrics win on a clash).
    pub fn all_finite(&self) -> BTreeMap<String, f64> {
        self.report
            .iter()
            .chain(self.final_metrics.iter())
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// What the evaluation event carries of the metrics, and how many it
    /// leaves out: every thresholded metric, then the others in name order
    /// while they fit in [`EVENT_METRICS_BYTES`] (names longer than
    /// [`EVENT_METRIC_NAME_CHARS`] left out). An EventBridge entry is at most
    /// 256 KB and a report may hold megabytes of metrics; the stored report
    /// (`evaluation_report`) keeps them all.
    pub fn for_event(&self, thresholds: &[Threshold]) -> (BTreeMap<String, f64>, usize) {
        let all = self.all_finite();
        let mut kept = BTreeMap::new();
        let mut bytes = 0;
        for threshold in thresholds {
            if let Some((name, value)) = all.get_key_value(&threshold.metric) {
                bytes += event_bytes(name);
                kept.insert(name.clone(), *value);
            }
        }
        for (name, value) in &all {
            if kept.contains_key(name) || name.chars().count() > EVENT_METRIC_NAME_CHARS {
                continue;
            }
            bytes += event_bytes(name);
            if bytes > EVENT_METRICS_BYTES {
                break;
            }
            kept.insert(name.clone(), *value);
        }
        let omitted = all.len() - kept.len();
        (kept, omitted)
    }
}

/// The most the evaluation event's `metrics` take, in bytes of JSON.
pub const EVENT_METRICS_BYTES: usize = 32 * 1024;

/// The longest metric name the evaluation event carries unless thresholded.
pub const EVENT_METRIC_NAME_CHARS: usize = 256;

/// One metric's bytes in the event's JSON: its quoted name, the colon, the
/// longest number serde_json writes for an f64 (24) and the comma.
fn event_bytes(name: &str) -> usize {
    serde_json::to_string(name).map_or(name.len() * 6 + 2, |quoted| quoted.len()) + 26
}

/// The verdict on one completed job: every threshold checked, and whether
/// the job passed (no threshold failed and the report, when expected, was
/// usable), with the reasons when it did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub thresholds: Vec<ThresholdVerdict>,
    pub passed: bool,
    pub reason: Option<String>,
}

/// Judges `metrics` against `thresholds`; `report_problem` (a report that
/// was there but unusable) fails the job whatever the thresholds say.
pub fn judge(
    thresholds: &[Threshold],
    metrics: &JobMetrics,
    report_problem: Option<String>,
) -> Verdict {
    let thresholds: Vec<ThresholdVerdict> = thresholds
        .iter()
        .map(|threshold| threshold.check(metrics.get(&threshold.metric)))
        .collect();
    let failures: Vec<String> = report_problem
        .into_iter()
        .chain(thresholds.iter().filter_map(|v| v.reason.clone()))
        .collect();
    let passed = failures.is_empty();
    Verdict {
        thresholds,
        passed,
        reason: (!passed).then(|| failures.join("; ")),
    }
}

/// Flattens an evaluation report into dotted paths. Both shapes jobs write
/// are understood: SageMaker's model-quality shape, where a metric is an
/// object with a `value` (`{"regression_metrics":{"rmse":{"value":2.9}}}`
/// gives `regression_metrics.rmse` and `regression_metrics.rmse.value`), and a
/// flat `{"rmse": 2.9}`. Strings that are numbers ("NaN" included) count.
pub fn flatten_report(report: &serde_json::Value) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    flatten_into(report, String::new(), &mut out, 0);
    out
}

fn flatten_into(
    value: &serde_json::Value,
    path: String,
    out: &mut BTreeMap<String, f64>,
    depth: usize,
) {
    // Reports are small; a pathological one must not exhaust the stack.
    if depth > 32 {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            if let Some(v) = map.get("value").and_then(number) {
                if !path.is_empty() {
                    out.insert(path.clone(), v);
                }
            }
            for (key, child) in map {
                flatten_into(child, join(key), out, depth + 1);
            }
        }
        other => {
            if let (Some(v), false) = (number(other), path.is_empty()) {
                out.insert(path, v);
            }
        }
    }
}

fn number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_passes_only_when_every_threshold_holds_and_the_report_is_usable() {
        let thresholds =
            parse_thresholds("validation:rmse <= 65, regression_metrics.r2.value >= 0.3").unwrap();
        let metrics = JobMetrics {
            final_metrics: BTreeMap::from([("validation:rmse".to_string(), 55.3)]),
            report: BTreeMap::from([("regression_metrics.r2.value".to_string(), 0.485)]),
        };
        let verdict = judge(&thresholds, &metrics, None);
        assert!(verdict.passed && verdict.reason.is_none(), "{verdict:?}");
        assert_eq!(verdict.thresholds.len(), 2);

        let worse = JobMetrics {
            final_metrics: BTreeMap::from([("validation:rmse".to_string(), 76.1)]),
            report: BTreeMap::new(),
        };
        let verdict = judge(&thresholds, &worse, None);
        assert!(!verdict.passed);
        let reason = verdict.reason.unwrap();
        assert!(
            reason.contains("validation:rmse") && reason.contains("regression_metrics.r2.value"),
            "{reason}"
        );

        let verdict = judge(
            &thresholds,
            &metrics,
            Some("evaluation.json is not JSON".into()),
        );
        assert!(!verdict.passed);
        assert!(verdict
            .reason
            .unwrap()
            .starts_with("evaluation.json is not JSON"));
    }
    use serde_json::json;

    #[test]
    fn parses_each_operator() {
        let rules = parse_thresholds("validation:rmse <= 3.5, accuracy>=0.9; auc > 0.5\nloss<1e-2")
            .unwrap();
        let got: Vec<(&str, Comparison, f64)> = rules
            .iter()
            .map(|r| (r.metric.as_str(), r.comparison, r.value))
            .collect();
        assert_eq!(
            got,
            [
                ("validation:rmse", Comparison::AtMost, 3.5),
                ("accuracy", Comparison::AtLeast, 0.9),
                ("auc", Comparison::Above, 0.5),
                ("loss", Comparison::Below, 0.01),
            ]
        );
        assert_eq!(rules[0].to_string(), "validation:rmse <= 3.5");
    }

    #[test]
    fn rejects_malformed_rules() {
        for bad in [
            "rmse",
            "rmse = 3",
            ">= 3",
            "rmse >= abc",
            "rmse >= NaN",
            "rmse <= inf",
        ] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad:?} accepted");
        }
        assert!(parse_thresholds("").unwrap().is_empty());
    }

    #[test]
    fn each_operator_at_its_boundary() {
        let check = |rule: &str, v: f64| rule.parse::<Threshold>().unwrap().check(Some(v)).passed;
        assert!(check("m >= 1", 1.0) && !check("m >= 1", 0.99));
        assert!(!check("m > 1", 1.0) && check("m > 1", 1.01));
        assert!(check("m <= 1", 1.0) && !check("m <= 1", 1.01));
        assert!(!check("m < 1", 1.0) && check("m < 1", 0.99));
    }

    #[test]
    fn nan_and_missing_never_pass() {
        for rule in ["m >= 1", "m > 1", "m <= 1", "m < 1"] {
            let rule: Threshold = rule.parse().unwrap();
            let nan = rule.check(Some(f64::NAN));
            assert!(!nan.passed);
            assert_eq!(nan.reason.as_deref(), Some("metric m is NaN"));
            assert_eq!(nan.actual, None);
            let missing = rule.check(None);
            assert!(!missing.passed);
            assert_eq!(missing.reason.as_deref(), Some("metric m not found"));
        }
    }

    #[test]
    fn flattens_both_report_shapes() {
        let model_quality = json!({
            "regression_metrics": {"rmse": {"value": 2.9, "standard_deviation": 0.1}, "r2": {"value": "0.8"}},
            "version": "1.0"
        });
        let flat = flatten_report(&model_quality);
        assert_eq!(flat["regression_metrics.rmse"], 2.9);
        assert_eq!(flat["regression_metrics.rmse.value"], 2.9);
        assert_eq!(flat["regression_metrics.rmse.standard_deviation"], 0.1);
        assert_eq!(flat["regression_metrics.r2"], 0.8);
        assert_eq!(flat["version"], 1.0);

        let simple = flatten_report(&json!({"rmse": 2.9, "accuracy": "NaN", "notes": "fine"}));
        assert_eq!(simple["rmse"], 2.9);
        assert!(simple["accuracy"].is_nan());
        assert!(!simple.contains_key("notes"));
        assert!(flatten_report(&json!([1, 2])).is_empty());
    }

    /// A report of megabytes: the event keeps the thresholded metrics (even
    /// with names past the cap) and fits its budget; the rest are counted.
    #[test]
    fn the_event_carries_the_thresholded_metrics_and_a_bounded_rest() {
        let long = format!("z.{}", "n".repeat(EVENT_METRIC_NAME_CHARS));
        let mut report: BTreeMap<String, f64> = (0..100_000)
            .map(|i| (format!("per_row.prediction_{i:06}.error"), i as f64))
            .collect();
        report.insert(long.clone(), 2.0);
        report.insert("zz.r2".into(), 0.9);
        let metrics = JobMetrics {
            final_metrics: BTreeMap::from([("validation:rmse".to_string(), 50.0)]),
            report,
        };
        let thresholds =
            parse_thresholds(&format!("zz.r2 >= 0.3, validation:rmse <= 65, {long} > 1")).unwrap();
        let (kept, omitted) = metrics.for_event(&thresholds);
        assert_eq!(kept["zz.r2"], 0.9);
        assert_eq!(kept["validation:rmse"], 50.0);
        assert_eq!(kept[&long], 2.0);
        assert!(kept.contains_key("per_row.prediction_000000.error"));
        assert_eq!(kept.len() + omitted, 100_003);
        assert!(omitted > 99_000, "{omitted}");
        let bytes = serde_json::to_string(&kept).unwrap().len();
        assert!(bytes <= EVENT_METRICS_BYTES + 1024, "{bytes}");

        let small = JobMetrics {
            final_metrics: BTreeMap::from([("a".to_string(), 1.0)]),
            report: BTreeMap::from([("b".to_string(), f64::NAN)]),
        };
        assert_eq!(
            small.for_event(&[]),
            (BTreeMap::from([("a".to_string(), 1.0)]), 0)
        );
    }

    #[test]
    fn final_metrics_come_first() {
        let metrics = JobMetrics {
            final_metrics: BTreeMap::from([("rmse".to_string(), 1.0)]),
            report: BTreeMap::from([("rmse".to_string(), 2.0), ("auc".to_string(), f64::NAN)]),
        };
        assert_eq!(metrics.get("rmse"), Some(1.0));
        assert!(metrics.get("auc").unwrap().is_nan());
        assert_eq!(metrics.get("other"), None);
        assert_eq!(
            metrics.all_finite(),
            BTreeMap::from([("rmse".to_string(), 1.0)])
        );
    }

    #[test]
    fn the_event_detail_round_trips() {
        let rule: Threshold = "rmse <= 3".parse().unwrap();
        let detail = ModelEvaluation {
            pipeline: "mlops".into(),
            training_job_name: "mlops--ecr-x-0123456789abcdef".into(),
            training_job_arn: "arn:aws:sagemaker:us-east-1:123456789012:training-job/mlops--ecr-x-0123456789abcdef".into(),
            training_job_status: TrainingJobStatus::Completed,
            image: Some("img@sha256:00".into()),
            model_artifacts: Some("s3://b/out/model.tar.gz".into()),
            metrics: BTreeMap::from([("rmse".to_string(), 2.5)]),
            metrics_omitted: 0,
            thresholds: vec![rule.check(Some(2.5))],
            passed: true,
            reason: None,
            evaluation_report: None,
        };
        let json = serde_json::to_value(&detail).unwrap();
        assert_eq!(json["thresholds"][0]["comparison"], "<=");
        assert_eq!(json["passed"], true);
        assert!(json.get("reason").is_none());
        let back: ModelEvaluation = serde_json::from_value(json).unwrap();
        assert_eq!(back, detail);
    }
}
