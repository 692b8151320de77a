//! `nexus bench notify`: messages dispatched per second end to end on the configured shape:
//! business events committed (with their dispatch rows) → relay → `notify.dispatch` renders each
//! message from its template and queues its send → `notify.send` hands it to a WhatsApp Cloud
//! API peer that answers after a set latency (100 ms by default, a realistic Graph API round
//! trip) → the message is recorded `sent`.
//!
//! The peer is a bench stand-in that only waits and answers a `wamid`; the contract's rules are
//! checked by the test suite's fake. With `W` sends in flight per process and latency `L`, no
//! implementation can beat `W / L` messages per second: that bound is printed beside the figure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use entities::invoicing::fiscal::Secret;
use entities::notifications::events::{self, NewEvent};
use entities::notifications::tables::notification;
use entities::org::branches::Actor;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyBench {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Messages sent.
    pub messages: u64,
    /// The peer's latency per message, ms.
    pub latency_ms: u64,
    /// Sends in flight at most (the worker pool's concurrency).
    pub concurrency: usize,
    /// Messages per second from the workers' start until the last is recorded sent.
    pub per_s: f64,
    /// `concurrency / latency`: what no implementation can beat with these settings.
    pub bound_per_s: f64,
    /// Calls the peer answered.
    pub peer_calls: u64,
}

/// Starts the peer: `POST /{phone_id}/messages` answered after `latency` with a new `wamid`.
async fn peer(latency: Duration) -> Result<(String, Arc<AtomicU64>)> {
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let router = axum::Router::new().route(
        "/{phone_id}/messages",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                tokio::time::sleep(latency).await;
                let n = counter.fetch_add(1, Ordering::Relaxed);
                axum::Json(json!({"messaging_product": "whatsapp",
                                  "messages": [{"id": format!("wamid.BENCH{n}")}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((format!("http://{addr}"), calls))
}

/// Commits `messages` `service_order_delivered` events for as many customers (each with a WhatsApp
/// number), then starts the relay and every pool and times until all are sent.
///
/// # Errors
/// When a database or the queue fails, or the messages are not all sent within 10 minutes.
pub async fn run(mut cfg: Config, messages: u64, latency: Duration) -> Result<NotifyBench> {
    let (url, calls) = peer(latency).await?;
    cfg.whatsapp_api_url = Some(url);
    cfg.queue_namespace = format!("{}-benchnotify", cfg.queue_namespace);
    let concurrency = cfg.worker_concurrency;
    let backend = crate::app::queue_backend(&cfg).await?;
    backend.purge().await?;
    let (app, db, database) = crate::reorder_bench::scratch_tenant(cfg, "notify").await?;
    let actor = Actor {
        user_id: None,
        request_id: None,
    };
    let txn = entities::db::begin_write(&db).await?;
    entities::notifications::whatsapp::put_settings(
        &txn,
        &actor,
        entities::notifications::whatsapp::SettingsInput {
            transport: "cloud".into(),
            phone_number_id: Some("106540352242922".into()),
            access_token: Secret::Set("EAAG-bench-token".into()),
            app_secret: Secret::Keep,
            verify_token: Secret::Keep,
        },
    )
    .await?;
    txn.commit().await?;
    let now = entities::now();
    let mut n = 0u64;
    while n < messages {
        let batch = 1_000.min(messages - n);
        let txn = entities::db::begin_write(&db).await?;
        let mut rows = Vec::new();
        let mut evs = Vec::new();
        for _ in 0..batch {
            let id = Uuid::now_v7();
            rows.push(entities::customers::tables::customer::ActiveModel {
                id: Set(id),
                name: Set(format!("Cliente {n}")),
                whatsapp_phone: Set(Some(format!("+5255{:08}", n % 100_000_000))),
                price_list: Set("mostrador".into()),
                is_active: Set(true),
                credit_limit_cents: Set(0),
                balance_cents: Set(0),
                store_credit_cents: Set(0),
                loyalty_points_cents: Set(0),
                loyalty_tier: Set("bronze".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            evs.push(NewEvent {
                ref_id: Uuid::now_v7().to_string(),
                payload: json!({"folio": format!("OS-{n:06}"), "customer_id": id,
                                "plate": "ABC-123-D", "vehicle": "Nissan Versa 2019", "token": "t"}),
            });
            n += 1;
        }
        entities::customers::tables::customer::Entity::insert_many(rows)
            .exec(&txn)
            .await
            .context("bench customers")?;
        events::record_many(&txn, "service_order_delivered", "service_order", evs).await?;
        txn.commit().await?;
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let relay = app.spawn_relay(stopped.clone())?;
    let pools = {
        let stopped = stopped.clone();
        let app_ref = &app;
        async move {
            app_ref
                .run_workers(vec![jobs::Queue::Notify], stopped)
                .await
        }
    };
    let wait = async {
        loop {
            let sent = notification::Entity::find()
                .filter(notification::Column::Status.eq("sent"))
                .count(&db)
                .await?;
            if sent >= messages {
                return Ok::<_, anyhow::Error>(started.elapsed());
            }
            if let Some(f) = notification::Entity::find()
                .filter(notification::Column::Status.eq("failed"))
                .one(&db)
                .await?
            {
                anyhow::bail!("a message failed: {:?}", f.reason);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "{sent} of {messages} messages sent in 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::pin!(pools);
    let took = tokio::select! {
        r = wait => r?,
        r = &mut pools => {
            r?;
            anyhow::bail!("the worker pools stopped early");
        }
    };
    let _ = stop.send(true);
    pools.await?;
    let _ = relay.await;
    backend.purge().await?;
    app.tenants.close_all().await;
    #[expect(clippy::cast_precision_loss, reason = "counts fit f64 exactly")]
    let (per_s, bound) = (
        messages as f64 / took.as_secs_f64(),
        concurrency as f64 / latency.as_secs_f64().max(f64::EPSILON),
    );
    Ok(NotifyBench {
        database,
        messages,
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        concurrency,
        per_s,
        bound_per_s: bound,
        peer_calls: calls.load(Ordering::Relaxed),
    })
}
