//! What a person's browser does when they install an app on the simulated HubSpot: follow the
//! app's install link to HubSpot's consent page (the simulator approves at once) and on to the
//! app's callback with the code. Used by the demo and by tests that connect or reconnect a
//! portal the way a customer would.

use reqwest::header::LOCATION;

/// Why a click-through install did not end on the app's callback with a redirect.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{url} did not redirect ({status})")]
    NoRedirect { url: String, status: u16 },
    #[error("{url} redirected to an invalid address: {source}")]
    BadLocation {
        url: String,
        source: url::ParseError,
    },
    #[error("the app's callback failed ({status}): {body}")]
    CallbackFailed { status: u16, body: String },
}

/// Clicks through an install: `install_url` (the app's link to HubSpot's consent), the consent,
/// then the callback HubSpot redirects to, sent to `callback_base` (scheme and host of the app
/// as this process reaches it) with the redirect's path and query. Succeeds when the callback
/// answers with a redirect, as an app does once it has stored the tokens.
pub async fn click_through_install(
    install_url: &str,
    callback_base: &str,
) -> Result<(), ConsentError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let install = http.get(install_url).send().await?;
    let consent = http.get(location(&install)?).send().await?;
    let redirect = location(&consent)?;
    let mut callback = format!("{callback_base}{}", redirect.path());
    if let Some(query) = redirect.query() {
        callback.push('?');
        callback.push_str(query);
    }
    let answer = http.get(callback).send().await?;
    if answer.status() != reqwest::StatusCode::FOUND
        && answer.status() != reqwest::StatusCode::SEE_OTHER
    {
        return Err(ConsentError::CallbackFailed {
            status: answer.status().as_u16(),
            body: answer.text().await.unwrap_or_default(),
        });
    }
    Ok(())
}

/// The absolute address a redirect answer points to.
fn location(response: &reqwest::Response) -> Result<url::Url, ConsentError> {
    let url = response.url().to_string();
    let raw = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ConsentError::NoRedirect {
            url: url.clone(),
            status: response.status().as_u16(),
        })?;
    response
        .url()
        .join(raw)
        .map_err(|source| ConsentError::BadLocation { url, source })
}
