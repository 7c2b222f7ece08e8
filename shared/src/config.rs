//! Reading configuration from environment variables, once, at cold start.
//!
//! Each function has its own typed config struct; they are all built with
//! [`EnvReader`], which keeps going after a problem so that every bad or
//! missing variable is reported in one error, each naming its variable.
//! An empty value counts as unset: CloudFormation parameters default to "".

use std::collections::HashMap;
use std::str::FromStr;

use serde::de::DeserializeOwned;

use crate::error::{ConfigProblem, ConfigProblems, PipelineError};

pub struct EnvReader {
    vars: HashMap<String, String>,
    problems: Vec<ConfigProblem>,
}

impl EnvReader {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self::from_vars(std::env::vars())
    }

    /// Reads a given set of variables (tests, tools).
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        EnvReader {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            problems: Vec::new(),
        }
    }

    /// Records a problem with `variable`; loading goes on.
    pub fn problem(&mut self, variable: &str, problem: impl Into<String>) {
        self.problems.push(ConfigProblem {
            variable: variable.to_string(),
            problem: problem.into(),
        });
    }

    /// The trimmed value, or `None` when unset or empty.
    pub fn optional(&mut self, variable: &str) -> Option<String> {
        self.vars
            .get(variable)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The value; a problem when unset or empty.
    pub fn required(&mut self, variable: &str) -> Option<String> {
        let value = self.optional(variable);
        if value.is_none() {
            self.problem(variable, "is required but not set");
        }
        value
    }

    /// A value parsed with `FromStr`, or `default` when unset.
    pub fn parsed_or<T>(&mut self, variable: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.parsed(variable).unwrap_or(default)
    }

    /// A value parsed with `FromStr`, `None` when unset or invalid (the
    /// problem is recorded).
    pub fn parsed<T>(&mut self, variable: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let raw = self.optional(variable)?;
        match raw.parse::<T>() {
            Ok(value) => Some(value),
            Err(err) => {
                self.problem(variable, format!("invalid value {raw:?}: {err}"));
                None
            }
        }
    }

    /// A whole number within `range`, or `default` when unset.
    pub fn number_or(
        &mut self,
        variable: &str,
        default: i32,
        range: std::ops::RangeInclusive<i32>,
    ) -> i32 {
        let value = self.parsed_or(variable, default);
        if !range.contains(&value) {
            self.problem(
                variable,
                format!(
                    "must be between {} and {}, got {value}",
                    range.start(),
                    range.end()
                ),
            );
        }
        value
    }

    /// `EVENT_BUS_NAME` (default `default`) and `EVENT_SOURCE` (default
    /// [`crate::events_bus::DEFAULT_EVENT_SOURCE`]; `aws.` is AWS's own).
    pub fn event_bus(&mut self) -> crate::events_bus::EventBus {
        let name = self
            .optional("EVENT_BUS_NAME")
            .unwrap_or_else(|| "default".to_string());
        let source = self
            .optional("EVENT_SOURCE")
            .unwrap_or_else(|| crate::events_bus::DEFAULT_EVENT_SOURCE.to_string());
        if source.starts_with("aws.") {
            self.problem(
                "EVENT_SOURCE",
                "must not start with \"aws.\" (reserved for AWS services)",
            );
        }
        crate::events_bus::EventBus { name, source }
    }

    /// `true`/`false` (any case), or `default` when unset.
    pub fn flag_or(&mut self, variable: &str, default: bool) -> bool {
        match self.optional(variable).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                self.problem(variable, format!("must be true or false, got {v:?}"));
                default
            }
        }
    }

    /// A JSON value, or `default` when unset. Serde's message says what is
    /// wrong and where.
    pub fn json_or<T: DeserializeOwned>(&mut self, variable: &str, default: T) -> T {
        let Some(raw) = self.optional(variable) else {
            return default;
        };
        let mut deserializer = serde_json::Deserializer::from_str(&raw);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => value,
            Err(err) => {
                let path = err.path().to_string();
                let at = if path == "." {
                    String::new()
                } else {
                    format!(" at {path}")
                };
                self.problem(variable, format!("invalid JSON{at}: {}", err.inner()));
                default
            }
        }
    }

    /// A comma-separated list (blank items dropped), empty when unset.
    pub fn list(&mut self, variable: &str) -> Vec<String> {
        self.optional(variable)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A SageMaker instance type (`ml.*`), or `default` when unset; a
    /// problem when it is not one. The one check for every such variable.
    pub fn instance_type_or(&mut self, variable: &str, default: &str) -> String {
        let instance_type = self
            .optional(variable)
            .unwrap_or_else(|| default.to_string());
        self.check_instance_type(variable, &instance_type);
        instance_type
    }

    /// A comma-separated list of SageMaker instance types, or `default`.
    pub fn instance_types_or(&mut self, variable: &str, default: &str) -> Vec<String> {
        let mut types = self.list(variable);
        if types.is_empty() {
            types = vec![default.to_string()];
        }
        for instance_type in &types {
            self.check_instance_type(variable, instance_type);
        }
        types
    }

    fn check_instance_type(&mut self, variable: &str, instance_type: &str) {
        if !instance_type.starts_with("ml.") {
            self.problem(
                variable,
                format!(
                    "must be a SageMaker instance type such as ml.m5.large, got {instance_type:?}"
                ),
            );
        }
    }

    /// A VPC from a subnets and a security groups variable: both set, or
    /// neither (no VPC); one without the other is a problem naming the one
    /// that is missing.
    pub fn vpc(&mut self, subnets: &str, security_groups: &str) -> Option<crate::vpc::Vpc> {
        let subnet_ids = self.list(subnets);
        let security_group_ids = self.list(security_groups);
        match (subnet_ids.is_empty(), security_group_ids.is_empty()) {
            (true, true) => None,
            (false, false) => Some(crate::vpc::Vpc {
                subnet_ids,
                security_group_ids,
            }),
            (true, false) => {
                self.problem(
                    subnets,
                    format!("is required when {security_groups} is set"),
                );
                None
            }
            (false, true) => {
                self.problem(
                    security_groups,
                    format!("is required when {subnets} is set"),
                );
                None
            }
        }
    }

    /// The pipeline's endpoint: `variable` (a valid SageMaker name), else
    /// `<pipeline>--endpoint`.
    pub fn endpoint_name(
        &mut self,
        variable: &str,
        pipeline: Option<&crate::PipelineName>,
    ) -> Option<String> {
        match self.optional(variable) {
            Some(name) if crate::names::is_valid_sagemaker_name(&name) => Some(name),
            Some(name) => {
                self.problem(
                    variable,
                    format!("{name:?} must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit"),
                );
                None
            }
            None => pipeline.map(|p| format!("{}endpoint", p.resource_prefix())),
        }
    }

    /// An `s3://bucket/prefix` URI; a problem when it is not one.
    pub fn s3_uri(&mut self, variable: &str, required: bool) -> Option<String> {
        let value = if required {
            self.required(variable)
        } else {
            self.optional(variable)
        }?;
        match crate::s3::S3Uri::parse(&value) {
            Ok(_) => Some(value),
            Err(problem) => {
                self.problem(variable, problem);
                None
            }
        }
    }

    /// `PIPELINE_NAME`, the prefix of every name the pipeline creates.
    pub fn pipeline_name(&mut self) -> Option<crate::PipelineName> {
        let raw = self.required("PIPELINE_NAME")?;
        match crate::PipelineName::parse(&raw) {
            Ok(name) => Some(name),
            Err(problem) => {
                self.problem("PIPELINE_NAME", problem);
                None
            }
        }
    }

    /// `MODEL_PACKAGE_GROUP_NAME`, `<pipeline>--models` when unset. Lower
    /// case only: SageMaker lower-cases group names in ARNs, which IAM matches.
    pub fn model_package_group(
        &mut self,
        pipeline: Option<&crate::PipelineName>,
    ) -> Option<String> {
        const VARIABLE: &str = "MODEL_PACKAGE_GROUP_NAME";
        match self.optional(VARIABLE) {
            Some(name) => {
                if crate::names::is_valid_sagemaker_name(&name)
                    && !name.bytes().any(|b| b.is_ascii_uppercase())
                {
                    Some(name)
                } else {
                    self.problem(
                        VARIABLE,
                        format!(
                            "{name:?} must be 1-63 lower-case letters, digits and hyphens, \
                             starting and ending with a letter or digit"
                        ),
                    );
                    None
                }
            }
            None => pipeline.map(|p| format!("{}models", p.resource_prefix())),
        }
    }

    /// Ends loading: the built config when there was no problem, otherwise
    /// every problem found.
    pub fn finish<T>(self, config: Option<T>) -> Result<T, PipelineError> {
        match config {
            Some(config) if self.problems.is_empty() => Ok(config),
            _ => {
                let mut problems = self.problems;
                if problems.is_empty() {
                    problems.push(ConfigProblem {
                        variable: "(configuration)".into(),
                        problem: "incomplete".into(),
                    });
                }
                Err(PipelineError::InvalidConfig(ConfigProblems(problems)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let mut env = EnvReader::from_vars([
            ("COUNT", "many"),
            ("FLAG", "yes"),
            ("DOC", "{\"a\": [1, \"x\"]}"),
            ("EMPTY", "   "),
        ]);
        let _ = env.required("MISSING");
        let _ = env.required("EMPTY");
        let _: i32 = env.parsed_or("COUNT", 1);
        let _ = env.flag_or("FLAG", false);
        let _: HashMap<String, Vec<u32>> = env.json_or("DOC", HashMap::new());
        let err = env.finish(Some(())).unwrap_err();
        let PipelineError::InvalidConfig(ConfigProblems(problems)) = err else {
            panic!("expected a config error");
        };
        let variables: Vec<&str> = problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(variables, ["MISSING", "EMPTY", "COUNT", "FLAG", "DOC"]);
        assert!(problems[4].problem.contains("a[1]"), "{}", problems[4]);
    }

    #[test]
    fn defaults_apply_when_unset_and_values_when_set() {
        let mut env = EnvReader::from_vars([("N", " 7 "), ("F", "TRUE"), ("L", "a, ,b,")]);
        assert_eq!(env.number_or("N", 1, 1..=10), 7);
        assert_eq!(env.number_or("UNSET", 3, 1..=10), 3);
        assert!(env.flag_or("F", false));
        assert_eq!(env.list("L"), ["a", "b"]);
        assert!(env.list("UNSET").is_empty());
        assert_eq!(env.finish(Some(1)).unwrap(), 1);
    }

    #[test]
    fn out_of_range_numbers_are_problems() {
        let mut env = EnvReader::from_vars([("N", "0")]);
        env.number_or("N", 1, 1..=10);
        let err = env.finish(Some(())).unwrap_err().to_string();
        assert!(err.contains("N: must be between 1 and 10, got 0"), "{err}");
    }
}
