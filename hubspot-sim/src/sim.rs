//! Starting and stopping a simulator in-process (tests) or from the binary.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{ALL_SCOPES, AdminError};
use crate::changes::LoggedChange;
use crate::config::SimConfig;
use crate::faults::FaultConfig;
use crate::generator::{GeneratorConfig, GeneratorError};
use crate::state::SimState;
use crate::stats::StatsSnapshot;
use crate::store::ObjectType;
use crate::tokens::{Grant, TokenKind, TokenPair};
use crate::webhooks::{Subscription, Throttling, WebhookHub, WebhookSettings};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not bind {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("could not generate the portal: {0}")]
    Generate(#[from] GeneratorError),
    #[error("invalid webhook configuration: {0}")]
    Webhook(String),
}

/// Generates a portal on a blocking thread; a panic there is re-raised here, not hidden.
async fn generate_portal(
    state: Arc<SimState>,
    config: GeneratorConfig,
) -> Result<u64, GeneratorError> {
    match tokio::task::spawn_blocking(move || state.create_portal(&config)).await {
        Ok(result) => result,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Entry point: `Simulator::start(config).await` returns a running instance.
pub struct Simulator;

impl Simulator {
    /// Binds, generates the default portal and serves until `shutdown`.
    pub async fn start(config: SimConfig) -> Result<RunningSimulator, StartError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| StartError::Bind(config.bind, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(config.bind, e))?;
        let (hub, events) = WebhookHub::new(config.webhooks.clone());
        let state = Arc::new(SimState::new(config.clone(), Arc::new(hub)));
        let generator = GeneratorConfig::new(config.seed, config.contacts);
        let portal_id = generate_portal(state.clone(), generator).await?;
        if let Some(token) = &config.private_app_token {
            state.tokens().add_private_app(
                token.clone(),
                Grant {
                    portal_id,
                    scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                    kind: TokenKind::PrivateApp,
                },
            );
        }
        if let Some(url) = &config.webhook_url {
            preconfigure_webhooks(&state, url)?;
        }
        let (stop, stopped) = watch::channel(false);
        let dispatcher = tokio::spawn(crate::webhooks::run_dispatcher(
            state.webhooks.clone(),
            config.client_secret.clone(),
            events,
            stopped.clone(),
        ));
        let app = crate::http::router(state.clone());
        let mut server_stop = stopped;
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // Either a shutdown signal or the handle being dropped ends the server.
                let _ = server_stop.changed().await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "hubspot-sim server stopped with an error");
            }
        });
        Ok(RunningSimulator {
            addr,
            portal_id,
            state,
            stop,
            server: Some(server),
            dispatcher: Some(dispatcher),
        })
    }
}

fn preconfigure_webhooks(state: &SimState, url: &str) -> Result<(), StartError> {
    if url::Url::parse(url).is_err() {
        return Err(StartError::Webhook(format!("'{url}' is not a valid URL")));
    }
    state.webhooks.set_settings(WebhookSettings {
        target_url: url.to_owned(),
        throttling: Throttling {
            max_concurrent_requests: 10,
            period: "SECONDLY".to_owned(),
        },
        created_at: None,
        updated_at: None,
    });
    for object in ["contact", "company", "deal"] {
        for kind in ["creation", "deletion"] {
            let _ = state
                .webhooks
                .subscribe(&format!("{object}.{kind}"), None, true);
        }
    }
    let _ = state
        .webhooks
        .subscribe("contact.privacyDeletion", None, true);
    let watched: [(&str, &[&str]); 3] = [
        (
            "contact",
            &[
                "jobtitle",
                "lifecyclestage",
                "hs_lead_status",
                "email",
                "hs_seniority",
                "hs_role",
                "country",
            ],
        ),
        (
            "company",
            &[
                "industry",
                "numberofemployees",
                "annualrevenue",
                "country",
                "name",
                "domain",
            ],
        ),
        ("deal", &["dealstage", "amount", "closedate", "pipeline"]),
    ];
    for (object, properties) in watched {
        for property in properties {
            let _ = state.webhooks.subscribe(
                &format!("{object}.propertyChange"),
                Some((*property).to_owned()),
                true,
            );
        }
    }
    Ok(())
}

/// A running simulator; dropping it without `shutdown` also stops the server.
pub struct RunningSimulator {
    addr: SocketAddr,
    portal_id: u64,
    state: Arc<SimState>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    dispatcher: Option<JoinHandle<()>>,
}

impl RunningSimulator {
    /// e.g. `http://127.0.0.1:41234` (point `HUBSPOT_BASE_URL` here).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The portal generated at start.
    pub fn portal_id(&self) -> u64 {
        self.portal_id
    }

    /// Every portal this simulator serves, ascending.
    pub fn portal_ids(&self) -> Vec<u64> {
        self.state.portal_ids()
    }

    /// Direct access for admin operations (`admin_create`, `set_faults`, …) and inspection.
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// Generates another portal (runs on a blocking thread).
    pub async fn create_portal(&self, config: GeneratorConfig) -> Result<u64, GeneratorError> {
        generate_portal(self.state.clone(), config).await
    }

    /// An OAuth token pair for `portal` with every CRM scope.
    pub fn issue_tokens(&self, portal: u64) -> Result<TokenPair, AdminError> {
        self.state.issue_tokens(portal, ALL_SCOPES)
    }

    /// An OAuth token pair with exactly these scopes (plus `oauth`).
    pub fn issue_tokens_with(&self, portal: u64, scopes: &[&str]) -> Result<TokenPair, AdminError> {
        self.state.issue_tokens(portal, scopes)
    }

    /// Replaces the portal's fault knobs (`FaultConfig::default()` turns them off).
    pub fn set_faults(&self, portal: u64, faults: FaultConfig) -> Result<(), AdminError> {
        self.state.set_faults(portal, faults)
    }

    /// Every API call of the portal gets 429 `TEN_SECONDLY_ROLLING` for `duration`.
    pub fn rate_limit_storm(&self, portal: u64, duration: Duration) -> Result<(), AdminError> {
        self.state.rate_limit_storm(portal, duration)
    }

    /// Deletes (archives) a custom property as a user would in HubSpot's settings.
    pub fn archive_property(
        &self,
        portal: u64,
        object: ObjectType,
        name: &str,
    ) -> Result<(), AdminError> {
        self.state.archive_property(portal, object, name)
    }

    /// Revokes all tokens of the portal, as an uninstall would; returns how many.
    pub fn revoke_tokens(&self, portal: u64) -> Result<usize, AdminError> {
        self.state.revoke_tokens(portal)
    }

    /// Requests, 429s, peak window usage and webhook counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.state.snapshot_stats()
    }

    /// Points the app's webhooks at `url` and subscribes to `event_types` (active).
    pub fn subscribe_webhooks(
        &self,
        url: &str,
        subscriptions: &[(&str, Option<&str>)],
    ) -> Vec<Subscription> {
        self.state.webhooks.set_settings(WebhookSettings {
            target_url: url.to_owned(),
            throttling: Throttling {
                max_concurrent_requests: 10,
                period: "SECONDLY".to_owned(),
            },
            created_at: None,
            updated_at: None,
        });
        subscriptions
            .iter()
            .filter_map(|(event, property)| {
                self.state
                    .webhooks
                    .subscribe(event, property.map(str::to_owned), true)
                    .ok()
            })
            .collect()
    }

    /// Deletes a contact for good, as a HubSpot user's GDPR delete does (fires
    /// `contact.privacyDeletion`).
    pub fn gdpr_delete(&self, portal: u64, id: u64) -> Result<(), AdminError> {
        self.state.gdpr_delete(portal, id)
    }

    /// Creates a record as a HubSpot user would (fires webhooks).
    pub fn create_record(
        &self,
        portal: u64,
        object: ObjectType,
        properties: &[(&str, &str)],
        company: Option<u64>,
    ) -> Result<u64, AdminError> {
        let owned: Vec<(String, String)> = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.state.admin_create(portal, object, &owned, company)
    }

    /// Updates a record as a HubSpot user would (fires webhooks).
    pub fn update_record(
        &self,
        portal: u64,
        object: ObjectType,
        id: u64,
        properties: &[(&str, &str)],
    ) -> Result<usize, AdminError> {
        let owned: Vec<(String, String)> = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.state.admin_update(portal, object, id, &owned)
    }

    /// Starts logging, with the simulator's clock, every change of these properties (from the
    /// CRM or through the API); [`RunningSimulator::logged_changes`] reads the log.
    pub fn watch_changes(&self, properties: &[&str]) {
        self.state.changes.watch(properties);
    }

    /// The watched changes so far, oldest first.
    pub fn logged_changes(&self) -> Vec<LoggedChange> {
        self.state.changes.entries()
    }

    /// Stops serving (in-flight requests finish) and stops webhook delivery.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(dispatcher) = self.dispatcher.take() {
            let _ = dispatcher.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
