//! Accounts and their sessions in the database: sign-up, sign-in with a per-account lockout,
//! password change, and server-side sessions (created, looked up, revoked).
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one
//! lane, OWASP's minimum) into PHC strings, on the blocking pool so a hash never stalls the
//! async workers. An unknown email is checked against a dummy hash, so it takes as long as a
//! wrong password.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use entity::{account_sessions, accounts};
use rand::RngCore as _;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr};

use super::session::{random_token, session_id};
use crate::AppState;

/// How long a sign-in lasts (absolute: a session is never extended).
pub const SESSION_DAYS: i64 = 7;
/// Wrong passwords in a row that lock an account.
pub const MAX_FAILED_ATTEMPTS: i32 = 5;
/// How long a locked account refuses sign-ins.
pub const LOCKOUT_MINUTES: i64 = 15;
/// Shortest and longest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// `last_seen_at` is written at most this often per session.
const LAST_SEEN_EVERY_SECS: i64 = 300;

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The input breaks a rule (shown to the person as is).
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email or wrong password (never says which).
    #[error("the email or password is wrong")]
    WrongCredentials,
    #[error("too many wrong passwords; this account is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// An email as stored: trimmed, lower-cased, one `@` with something on both sides.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(email)
    } else {
        Err(AccountError::Invalid(
            "Enter an email address like name@company.com.".to_owned(),
        ))
    }
}

/// A new password's rules: long enough to resist guessing, short enough to hash cheaply.
pub fn check_new_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "Choose a password of at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "Choose a password of at most {MAX_PASSWORD_CHARS} characters."
        )));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// An argon2id PHC string for `password`.
pub async fn hash_password(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking(&random_token(16)).unwrap_or_else(|_| {
            // Not reachable with the default parameters; any PHC string keeps the timing close.
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$2Yz7U0iY2hP3F0tq2M4c4Qm6y3c7k0m8f8sQJm0m9Yk".to_owned()
        })
    })
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash); `None`
/// checks against a dummy hash to spend the same time.
pub async fn verify_password(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

async fn find_by_email(state: &AppState, email: &str) -> Result<Option<accounts::Model>, DbErr> {
    accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email))
        .one(&state.db)
        .await
}

/// Creates an account (409-style `EmailTaken` when the email is in use).
pub async fn sign_up(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<accounts::Model, AccountError> {
    let email = normalize_email(email)?;
    check_new_password(password)?;
    // Hash before looking the email up, so a taken email costs as long as a new one and the
    // answer's timing does not tell them apart.
    let hash = hash_password(password.to_owned()).await?;
    if find_by_email(state, &email).await?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    let now = state.config.clock.now();
    let inserted = accounts::ActiveModel {
        email: Set(email),
        password_hash: Set(hash),
        plan: Set(None),
        failed_attempts: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(account) => Ok(account),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AccountError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// Checks an email and password; counts wrong passwords and locks the account for
/// [`LOCKOUT_MINUTES`] at the [`MAX_FAILED_ATTEMPTS`]th (a locked account refuses even the
/// right password until then).
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<accounts::Model, AccountError> {
    let Ok(email) = normalize_email(email) else {
        verify_password(None, password.to_owned()).await;
        return Err(AccountError::WrongCredentials);
    };
    let Some(account) = find_by_email(state, &email).await? else {
        verify_password(None, password.to_owned()).await;
        return Err(AccountError::WrongCredentials);
    };
    let now = state.config.clock.now();
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Err(AccountError::Locked { until });
    }
    if verify_password(Some(account.password_hash.clone()), password.to_owned()).await {
        if account.failed_attempts != 0 || account.locked_until.is_some() {
            accounts::Entity::update_many()
                .col_expr(accounts::Column::FailedAttempts, Expr::value(0))
                .col_expr(
                    accounts::Column::LockedUntil,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .filter(accounts::Column::Id.eq(account.id))
                .exec(&state.db)
                .await?;
        }
        return Ok(account);
    }
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::FailedAttempts,
            Expr::col(accounts::Column::FailedAttempts).add(1),
        )
        .filter(accounts::Column::Id.eq(account.id))
        .exec(&state.db)
        .await?;
    let failed = accounts::Entity::find_by_id(account.id)
        .one(&state.db)
        .await?
        .map_or(0, |a| a.failed_attempts);
    if failed >= MAX_FAILED_ATTEMPTS {
        let until = now + Duration::minutes(LOCKOUT_MINUTES);
        accounts::Entity::update_many()
            .col_expr(accounts::Column::FailedAttempts, Expr::value(0))
            .col_expr(accounts::Column::LockedUntil, Expr::value(Some(until)))
            .filter(accounts::Column::Id.eq(account.id))
            .exec(&state.db)
            .await?;
        tracing::warn!(
            account = account.id,
            "account locked after repeated wrong passwords"
        );
        return Err(AccountError::Locked { until });
    }
    Err(AccountError::WrongCredentials)
}

/// Starts a session; returns the cookie's token (only its hash is stored).
pub async fn create_session(state: &AppState, account_id: i64) -> Result<String, DbErr> {
    let now = state.config.clock.now();
    // Expired sessions of this account are of no use to anyone.
    account_sessions::Entity::delete_many()
        .filter(account_sessions::Column::AccountId.eq(account_id))
        .filter(account_sessions::Column::ExpiresAt.lte(now))
        .exec(&state.db)
        .await?;
    let token = random_token(32);
    account_sessions::ActiveModel {
        id: Set(session_id(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_DAYS)),
        last_seen_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(token)
}

/// The unexpired session with this id and its account.
pub async fn find_session(
    state: &AppState,
    id: &str,
) -> Result<Option<(account_sessions::Model, accounts::Model)>, DbErr> {
    let Some(session) = account_sessions::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let now = state.config.clock.now();
    if session.expires_at <= now {
        account_sessions::Entity::delete_by_id(session.id.clone())
            .exec(&state.db)
            .await?;
        return Ok(None);
    }
    let Some(account) = accounts::Entity::find_by_id(session.account_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    if (now - session.last_seen_at).num_seconds() >= LAST_SEEN_EVERY_SECS {
        account_sessions::Entity::update_many()
            .col_expr(account_sessions::Column::LastSeenAt, Expr::value(now))
            .filter(account_sessions::Column::Id.eq(session.id.clone()))
            .exec(&state.db)
            .await?;
    }
    Ok(Some((session, account)))
}

/// Ends one session (sign-out).
pub async fn revoke_session(state: &AppState, id: &str) -> Result<(), DbErr> {
    account_sessions::Entity::delete_by_id(id.to_owned())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Changes the password after checking the current one, and ends every other session of the
/// account (a stolen session does not survive the change). Returns how many were ended.
pub async fn change_password(
    state: &AppState,
    account: &accounts::Model,
    keep_session: &str,
    current: &str,
    new: &str,
) -> Result<u64, AccountError> {
    if !verify_password(Some(account.password_hash.clone()), current.to_owned()).await {
        return Err(AccountError::Invalid(
            "Your current password is not right.".to_owned(),
        ));
    }
    check_new_password(new)?;
    let hash = hash_password(new.to_owned()).await?;
    let now = state.config.clock.now();
    accounts::Entity::update_many()
        .col_expr(accounts::Column::PasswordHash, Expr::value(hash))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account.id))
        .exec(&state.db)
        .await?;
    let ended = account_sessions::Entity::delete_many()
        .filter(account_sessions::Column::AccountId.eq(account.id))
        .filter(account_sessions::Column::Id.ne(keep_session.to_owned()))
        .exec(&state.db)
        .await?;
    tracing::info!(
        account = account.id,
        ended = ended.rows_affected,
        "password changed"
    );
    Ok(ended.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana@example",
            "a b@x.io",
            "a@b@c.io",
            "a@.io",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_must_be_long_enough_but_not_huge() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough!").is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password(Some(hash.clone()), "correct horse battery".to_owned()).await);
        assert!(!verify_password(Some(hash.clone()), "wrong horse battery".to_owned()).await);
        assert!(!verify_password(Some("not a hash".to_owned()), "x".to_owned()).await);
        assert!(!verify_password(None, "anything".to_owned()).await);
        let again = hash_password("correct horse battery".to_owned())
            .await
            .unwrap();
        assert_ne!(hash, again, "a fresh salt each time");
    }
}
