//! A VPC for what SageMaker runs (training jobs, models): subnets and
//! security groups, always both. `EnvReader::vpc` reads the pair.

use aws_sdk_sagemaker::types::VpcConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

impl Vpc {
    /// SageMaker's `VpcConfig` for training jobs and models alike.
    pub fn config(&self) -> VpcConfig {
        VpcConfig::builder()
            .set_subnets(Some(self.subnet_ids.clone()))
            .set_security_group_ids(Some(self.security_group_ids.clone()))
            .build()
    }
}
