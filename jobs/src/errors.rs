//! How a job handler says what went wrong, so the ledger layer knows whether to retry.

use std::time::Duration;

use crate::ledger::Failure;

/// A failed attempt, classified for the retry policy (DESIGN §3: permanent errors stop at once).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying: timeouts, 5xx, rate limits, a lost connection. `after` overrides the
    /// backoff when the cause says how long to wait (a 429's window).
    #[error("{kind}: {message}")]
    Retryable {
        kind: &'static str,
        message: String,
        after: Option<Duration>,
    },
    /// Retrying cannot help: revoked token, missing scopes, invalid data.
    #[error("{kind}: {message}")]
    Permanent { kind: &'static str, message: String },
    /// The worker is shutting down and the job stopped at a checkpoint; it is not a failure and
    /// resumes on the next worker from where it stopped.
    #[error("interrupted: the worker is shutting down")]
    Interrupted,
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Retryable {
            kind: "transient",
            message: message.into(),
            after: None,
        }
    }

    pub fn permanent(kind: &'static str, message: impl Into<String>) -> Self {
        Self::Permanent {
            kind,
            message: message.into(),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Retryable { after, .. } => *after,
            Self::Permanent { .. } | Self::Interrupted => None,
        }
    }

    pub fn to_failure(&self) -> Failure {
        match self {
            Self::Retryable { kind, message, .. } => Failure {
                kind: (*kind).to_owned(),
                message: message.clone(),
                retryable: true,
            },
            Self::Permanent { kind, message } => Failure {
                kind: (*kind).to_owned(),
                message: message.clone(),
                retryable: false,
            },
            Self::Interrupted => Failure {
                kind: "interrupted".to_owned(),
                message: self.to_string(),
                retryable: true,
            },
        }
    }
}

impl From<crate::progress::ProgressError> for JobError {
    fn from(error: crate::progress::ProgressError) -> Self {
        match error {
            crate::progress::ProgressError::Ledger(error) => error.into(),
            crate::progress::ProgressError::Interrupted => Self::Interrupted,
        }
    }
}

impl From<crate::ledger::LedgerError> for JobError {
    fn from(error: crate::ledger::LedgerError) -> Self {
        Self::transient(error.to_string())
    }
}
