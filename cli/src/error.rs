//! The errors the operator commands tell apart, and the exit code each maps to, so a script can
//! branch on the outcome without parsing messages.

/// An operator command's failure, with the exit code it stands for.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API answered an error status with its JSON error body (`code` is stable).
    #[error("{code} (HTTP {status}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The API could not be reached, or answered something that is not the API.
    #[error("{0}")]
    Unreachable(String),
    /// The configuration or arguments are unusable: the caller must fix them.
    #[error("{0}")]
    Config(String),
    /// A watched job ended without succeeding.
    #[error("job {id} ended {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    JobEnded {
        id: String,
        status: String,
        reason: Option<String>,
    },
}

/// 0 ok (not an error), 1 failure, 2 usage/configuration, 3 not found.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<crate::bench::ConfigError>().is_some() {
        return 2;
    }
    match error.downcast_ref::<CliError>() {
        Some(CliError::Config(_)) => 2,
        Some(CliError::Api { status: 404, .. }) => 3,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> anyhow::Error {
        CliError::Api {
            status,
            code: "x".to_owned(),
            message: "y".to_owned(),
        }
        .into()
    }

    #[test]
    fn codes_follow_the_documented_table() {
        assert_eq!(exit_code(&api(404)), 3);
        assert_eq!(exit_code(&api(401)), 1);
        assert_eq!(exit_code(&api(503)), 1);
        assert_eq!(exit_code(&CliError::Config("no token".into()).into()), 2);
        assert_eq!(
            exit_code(&CliError::Unreachable("refused".into()).into()),
            1
        );
        assert_eq!(exit_code(&anyhow::anyhow!("anything else")), 1);
    }

    #[test]
    fn api_errors_name_their_code() {
        let message = api(404).to_string();
        assert!(message.starts_with("x (HTTP 404)"), "{message}");
    }
}
