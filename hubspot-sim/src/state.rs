//! Shared state of one simulator instance (no globals: many simulators can run in one process).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::changes::ChangeLog;
use crate::config::SimConfig;
use crate::faults::FaultState;
use crate::generator::{GeneratorConfig, GeneratorError};
use crate::ratelimit::RollingLimiter;
use crate::stats::{Stats, StatsSnapshot};
use crate::store::{ObjectType, Portal};
use crate::tokens::{TokenKind, TokenStore, now_ms};
use crate::webhooks::{Change, ChangeSource, WebhookHub};

/// One portal plus its live fault knobs.
#[derive(Debug)]
pub struct PortalState {
    pub id: u64,
    data: RwLock<Portal>,
    faults: Mutex<FaultState>,
}

impl PortalState {
    /// Shared access to the portal's data (poisoning is ignored: data stays usable).
    pub fn read(&self) -> RwLockReadGuard<'_, Portal> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to the portal's data.
    pub fn write(&self) -> RwLockWriteGuard<'_, Portal> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The portal's live fault knobs.
    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything a request handler may touch.
#[derive(Debug)]
pub struct SimState {
    pub config: SimConfig,
    portals: RwLock<BTreeMap<u64, Arc<PortalState>>>,
    next_portal_id: AtomicU64,
    pub tokens: Mutex<TokenStore>,
    /// Burst budget per (app or private app, portal).
    pub burst: RollingLimiter<(TokenKind, u64)>,
    /// Search budget per portal.
    pub search: RollingLimiter<u64>,
    pub stats: Mutex<Stats>,
    pub webhooks: Arc<WebhookHub>,
    /// Timed changes of watched properties (benchmarks).
    pub changes: ChangeLog,
}

/// HubSpot portal ids are 7–9 digit numbers.
const FIRST_PORTAL_ID: u64 = 20_000_001;

impl SimState {
    /// Empty state; `Simulator::start` adds the generated portal.
    pub fn new(config: SimConfig, webhooks: Arc<WebhookHub>) -> Self {
        Self {
            config,
            portals: RwLock::new(BTreeMap::new()),
            next_portal_id: AtomicU64::new(FIRST_PORTAL_ID),
            tokens: Mutex::new(TokenStore::default()),
            burst: RollingLimiter::default(),
            search: RollingLimiter::default(),
            stats: Mutex::new(Stats::default()),
            webhooks,
            changes: ChangeLog::default(),
        }
    }

    /// All OAuth and private-app tokens.
    pub fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Request counters (webhook counters live in the hub).
    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A portal by id.
    pub fn portal(&self, id: u64) -> Option<Arc<PortalState>> {
        self.portals
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Every portal id, ascending.
    pub fn portal_ids(&self) -> Vec<u64> {
        self.portals
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// Generates and registers a portal; returns its id.
    pub fn create_portal(&self, generator: &GeneratorConfig) -> Result<u64, GeneratorError> {
        let id = self.next_portal_id.fetch_add(1, Ordering::Relaxed);
        let portal = Portal::generated(id, generator, now_ms())?;
        let state = Arc::new(PortalState {
            id,
            data: RwLock::new(portal),
            faults: Mutex::new(FaultState::default()),
        });
        self.portals
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, state);
        Ok(id)
    }

    /// What follows a record's values changing, from the CRM or through the API: the change
    /// log (if the property is watched) and a `*.propertyChange` event per changed value.
    pub fn properties_changed(
        &self,
        portal_id: u64,
        object: ObjectType,
        id: u64,
        changed: Vec<(String, String)>,
        source: ChangeSource,
    ) {
        self.changes.record(portal_id, object, id, &changed, source);
        for (name, value) in changed {
            self.webhooks.fire(
                portal_id,
                self.config.app_id,
                &Change::PropertyChanged {
                    object,
                    id,
                    name,
                    value,
                },
                source,
            );
        }
    }

    /// A consistent copy of all counters, with each portal's peak window usage.
    pub fn snapshot_stats(&self) -> StatsSnapshot {
        let stats = self.stats();
        let mut portals = stats.portals.clone();
        for (id, portal_stats) in portals.iter_mut() {
            let peak = [
                TokenKind::PrivateApp,
                TokenKind::OAuth {
                    app_id: self.config.app_id,
                },
            ]
            .into_iter()
            .map(|kind| self.burst.peak(&(kind, *id)))
            .max()
            .unwrap_or(0);
            portal_stats.peak_window_requests = peak;
        }
        StatsSnapshot {
            requests: portals.values().map(|p| p.requests).sum(),
            rate_limited: portals.values().map(|p| p.rate_limited).sum(),
            portals,
            webhooks: self.webhooks.stats(),
        }
    }
}
