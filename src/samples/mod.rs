//! placeholder until the generator lands
#![allow(missing_docs)]
use std::path::{Path, PathBuf};
pub struct SampleOptions {
    pub households: usize,
    pub seed: u64,
}
pub struct SampleSummary {
    pub files: Vec<(PathBuf, usize)>,
    pub persons: usize,
    pub households: usize,
    pub mentions: usize,
}
#[derive(Debug, thiserror::Error)]
#[error("not yet")]
pub struct SampleError;
pub fn generate(_: &SampleOptions, _: &Path) -> Result<SampleSummary, SampleError> {
    Err(SampleError)
}
