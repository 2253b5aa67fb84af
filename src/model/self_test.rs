//! The profile editor's connection self-test as the panel shows it: the steps heard so far and,
//! once it ends, the outcome.

use crate::check::{Step, StepReport};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfTest {
    /// The profile tested, as named when the test started.
    pub profile: String,
    pub steps: Vec<StepReport>,
    /// `None` while running; the failing step, or why the test could not start.
    pub outcome: Option<Result<(), Failure>>,
}

/// Why a self-test did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The profile cannot connect at all (a field is wrong, the built-in broker is off).
    NotStarted(String),
    Step(Step),
}

impl SelfTest {
    pub fn started(profile: &str) -> Self {
        Self { profile: profile.to_owned(), steps: Vec::new(), outcome: None }
    }

    pub fn not_started(profile: &str, reason: String) -> Self {
        Self { profile: profile.to_owned(), steps: Vec::new(), outcome: Some(Err(Failure::NotStarted(reason))) }
    }

    pub const fn running(&self) -> bool {
        self.outcome.is_none()
    }

    pub fn finished(&mut self, result: Result<(), Step>) {
        self.outcome = Some(result.map_err(Failure::Step));
    }

    /// The summary line under the steps.
    pub fn summary(&self) -> String {
        match &self.outcome {
            None => format!("Testing {}…", self.profile),
            Some(Ok(())) => format!("{}: all steps passed.", self.profile),
            Some(Err(Failure::Step(step))) => format!("{}: failed at step \"{}\".", self.profile, step.name()),
            Some(Err(Failure::NotStarted(reason))) => format!("{}: not tested: {reason}", self.profile),
        }
    }
}
