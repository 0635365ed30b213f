//! Budgets and spend.
//!
//! Live totals are counters (in process, or in Redis so every node sees one total), one per
//! budget and period; a missing counter is seeded from the database. Every request's cost and
//! tokens are also recorded per key, team and virtual key and day in the database — in
//! batches, by a background task, so no request waits for it. A budget is checked before a
//! request (412 once it is spent) and charged after it; crossing its `alert_threshold` logs a
//! warning and POSTs `auth.alert_webhook`, once per period.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use switchyard_limits::Counters;
use switchyard_store::{SpendDelta, Store, UsageFilter};
use switchyard_types::usage::TokenUsage;
use tokio::sync::mpsc;

use super::error::GovernanceError;
use super::limits::Compiled;
use super::period::{day_string, now_secs, Period};
use super::policy::{BudgetKind, UsageLimit};

/// How many spend rows wait for the writer, at most (beyond it rows are dropped, and said).
const QUEUE: usize = 100_000;

/// Budgets and the spend record.
pub struct Budgets {
    counters: Counters,
    store: Option<Store>,
    rows: Option<mpsc::Sender<SpendDelta>>,
    alert_webhook: Option<http::Uri>,
}

/// What one finished request used, for one key, team or virtual key.
#[derive(Debug, Clone, Copy)]
pub struct Used {
    pub cost: f64,
    pub usage: TokenUsage,
}

impl Budgets {
    pub fn new(
        counters: Counters,
        store: Option<Store>,
        alert_webhook: Option<http::Uri>,
    ) -> Budgets {
        let rows = store.clone().map(|s| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write_rows(s, rx));
            tx
        });
        Budgets {
            counters,
            store,
            rows,
            alert_webhook,
        }
    }

    fn counter_key(set: &Compiled, period: &Period) -> String {
        format!("spend:{}:{}:{}", set.scope, set.id, period.id)
    }

    /// Refuses (412) when a budget of `sets` is spent.
    pub async fn check(&self, sets: &[&Compiled]) -> Result<(), GovernanceError> {
        let now = now_secs();
        let budgets: Vec<(&Compiled, &UsageLimit, Period)> = sets
            .iter()
            .filter_map(|s| {
                let b = s.budget.as_ref()?;
                Some((*s, b, Period::containing(b.periodic_reset, now)))
            })
            .collect();
        if budgets.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = budgets
            .iter()
            .map(|(s, _, p)| Self::counter_key(s, p))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let totals = match self.counters.spend_get(&refs).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "budgets unchecked: their shared counters are unreachable");
                return Ok(());
            }
        };
        for (((set, budget, period), key), total) in budgets.iter().zip(&keys).zip(totals) {
            let spent = match total {
                Some(t) => t,
                None => self.seed(set, budget, period, key).await,
            };
            if spent >= budget.credit_limit {
                let unit = match budget.kind {
                    BudgetKind::Cost => "USD",
                    BudgetKind::Tokens => "tokens",
                };
                return Err(GovernanceError::BudgetExhausted {
                    scope: set.scope_name(),
                    spent: format!("{spent:.4}"),
                    limit: budget.credit_limit.to_string(),
                    unit,
                    period: period
                        .first_day
                        .as_ref()
                        .map_or(String::new(), |d| format!(" since {d}")),
                });
            }
        }
        Ok(())
    }

    /// A counter that does not exist yet (a new period, a restarted node, a flushed Redis):
    /// its total is what the database recorded for the period.
    async fn seed(&self, set: &Compiled, budget: &UsageLimit, period: &Period, key: &str) -> f64 {
        let Some(store) = &self.store else {
            return 0.0;
        };
        let rows = match store
            .usage(&UsageFilter {
                scope: Some(set.scope.to_owned()),
                id: Some(set.id.clone()),
                period: None,
                limit: 100_000,
            })
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "a budget's spend could not be read from the database");
                return 0.0;
            }
        };
        let total: f64 = rows
            .iter()
            .filter(|r| period.first_day.as_ref().is_none_or(|d| r.period >= *d))
            .map(|r| match budget.kind {
                BudgetKind::Cost => r.spend.cost_usd,
                BudgetKind::Tokens => (r.spend.input_tokens + r.spend.output_tokens) as f64,
            })
            .sum();
        let _ = self.counters.spend_seed(key, total, period.ttl).await;
        total
    }

    /// Charges what a request used to every set (the caller runs this off the request's path).
    pub async fn charge(&self, sets: &[Arc<Compiled>], used: Used) {
        let now = now_secs();
        let day = day_string(now.div_euclid(86_400));
        for set in sets {
            if let Some(tx) = &self.rows {
                let row = SpendDelta {
                    scope: set.scope.to_owned(),
                    id: set.id.clone(),
                    period: day.clone(),
                    cost_usd: used.cost,
                    input_tokens: i64::try_from(used.usage.input).unwrap_or(i64::MAX),
                    output_tokens: i64::try_from(used.usage.output).unwrap_or(i64::MAX),
                    requests: 1,
                };
                if tx.try_send(row).is_err() {
                    tracing::warn!("spend record queue full: a request's spend was not recorded in the database");
                }
            }
            let Some(budget) = &set.budget else { continue };
            let amount = match budget.kind {
                BudgetKind::Cost => used.cost,
                BudgetKind::Tokens => used.usage.input.saturating_add(used.usage.output) as f64,
            };
            if amount <= 0.0 {
                continue;
            }
            let period = Period::containing(budget.periodic_reset, now);
            let key = Self::counter_key(set, &period);
            match self.counters.spend_add(&key, amount, period.ttl).await {
                Ok(total) => {
                    if let Some(t) = budget.alert_threshold {
                        if total >= t && total - amount < t {
                            self.alert(set, budget, &period, total).await;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a budget's spend could not be counted");
                }
            }
        }
    }

    async fn alert(&self, set: &Compiled, budget: &UsageLimit, period: &Period, total: f64) {
        tracing::warn!(
            scope = set.scope,
            id = %set.id,
            spent = total,
            alert_threshold = budget.alert_threshold,
            credit_limit = budget.credit_limit,
            period = %period.id,
            "budget alert threshold crossed"
        );
        let Some(uri) = &self.alert_webhook else {
            return;
        };
        let body = serde_json::json!({
            "event": "budget_alert",
            "scope": set.scope,
            "id": set.id,
            "spent": total,
            "alert_threshold": budget.alert_threshold,
            "credit_limit": budget.credit_limit,
            "type": budget.kind,
            "period": period.id,
        });
        if let Err(e) = crate::guardrails::outbound::send(
            "budget alert webhook",
            http::Method::POST,
            uri,
            &[],
            Some(Bytes::from(body.to_string())),
            Duration::from_secs(5),
            4096,
        )
        .await
        {
            tracing::warn!(error = %e, "budget alert webhook failed");
        }
    }
}

/// Writes spend rows in batches: whatever arrived within a second, summed by key.
async fn write_rows(store: Store, mut rx: mpsc::Receiver<SpendDelta>) {
    let mut pending: HashMap<(String, String, String), SpendDelta> = HashMap::new();
    loop {
        let first = match rx.recv().await {
            Some(r) => r,
            None => break,
        };
        add(&mut pending, first);
        let deadline = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => add(&mut pending, r),
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        let rows: Vec<SpendDelta> = pending.drain().map(|(_, v)| v).collect();
        if let Err(e) = store.add_spend(&rows).await {
            tracing::warn!(error = %e, rows = rows.len(), "spend rows could not be written; retrying with the next batch");
            for r in rows {
                add(&mut pending, r);
            }
        }
    }
    if !pending.is_empty() {
        let rows: Vec<SpendDelta> = pending.drain().map(|(_, v)| v).collect();
        let _ = store.add_spend(&rows).await;
    }
}

fn add(pending: &mut HashMap<(String, String, String), SpendDelta>, r: SpendDelta) {
    let k = (r.scope.clone(), r.id.clone(), r.period.clone());
    match pending.get_mut(&k) {
        Some(p) => {
            p.cost_usd += r.cost_usd;
            p.input_tokens = p.input_tokens.saturating_add(r.input_tokens);
            p.output_tokens = p.output_tokens.saturating_add(r.output_tokens);
            p.requests = p.requests.saturating_add(r.requests);
        }
        None => {
            pending.insert(k, r);
        }
    }
}
