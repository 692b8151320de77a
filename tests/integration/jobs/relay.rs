//! The outbox relay: committed rows reach their queue once, within the window, and survive a
//! crash between push and mark.

use entities::jobs::tables::outbox;
use jobs::{Job, Queue};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use tests::{TestApp, TestTenant, shape_tests};
use uuid::Uuid;
use workers::relay::RelayConfig;

shape_tests!(
    committed_outbox_rows_reach_their_queue_and_are_marked_sent,
    the_relay_keeps_each_queue_within_its_window,
    a_relay_crash_between_push_and_mark_pushes_no_duplicate,
    a_retry_put_back_before_the_relay_marked_its_first_push_is_pushed_again,
    rows_due_later_wait_in_the_outbox,
    rows_held_back_by_a_full_window_go_out_as_soon_as_there_is_room,
    a_tenant_whose_database_fails_is_skipped_and_the_others_are_relayed,
);

#[derive(Debug, Serialize, Deserialize)]
struct Touch {
    tenant_id: Uuid,
    n: u32,
}

impl Job for Touch {
    const NAME: &'static str = "test_touch";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Mail {
    tenant_id: Uuid,
}

impl Job for Mail {
    const NAME: &'static str = "test_mail";
    const QUEUE: Queue = Queue::Notify;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

async fn enqueue_touches(app: &TestApp, t: &TestTenant, n: u32) {
    let db = app.tenant_db(t).await;
    let txn = entities::db::begin_write(&db).await.unwrap();
    for i in 0..n {
        jobs::outbox::enqueue(
            &txn,
            &Touch {
                tenant_id: t.tenant.id,
                n: i,
            },
        )
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
}

async fn unsent(app: &TestApp, t: &TestTenant) -> u64 {
    let db = app.tenant_db(t).await;
    outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&db)
        .await
        .unwrap()
}

async fn committed_outbox_rows_reach_their_queue_and_are_marked_sent(app: TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("bolt").await;
    enqueue_touches(&app, &a, 30).await;
    enqueue_touches(&app, &b, 20).await;
    let db = app.tenant_db(&b).await;
    jobs::outbox::enqueue(
        &db,
        &Mail {
            tenant_id: b.tenant.id,
        },
    )
    .await
    .unwrap();

    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.pushed.get("maintenance"), Some(&50));
    assert_eq!(report.pushed.get("notify"), Some(&1));
    assert_eq!(unsent(&app, &a).await, 0);
    assert_eq!(unsent(&app, &b).await, 0);
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 50);
    assert_eq!(app.queues.waiting(Queue::Notify).await.unwrap(), 1);
    // A second pass finds nothing to do.
    assert_eq!(
        app.relay(RelayConfig::default())
            .sweep()
            .await
            .unwrap()
            .total(),
        0
    );
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 50);
}

async fn the_relay_keeps_each_queue_within_its_window(app: TestApp) {
    let t = app.tenant("acme").await;
    enqueue_touches(&app, &t, 250).await;
    let cfg = RelayConfig {
        window: 100,
        batch: 40,
        ..RelayConfig::default()
    };
    let report = app.relay(cfg).sweep().await.unwrap();
    assert_eq!(report.total(), 100);
    assert_eq!(report.held_back, 150, "due rows left in the outbox");
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 100);
    assert_eq!(unsent(&app, &t).await, 150);
    assert_eq!(
        app.relay(cfg).sweep().await.unwrap().total(),
        0,
        "the window is full"
    );
    // Workers drain the queue: the relay refills it.
    app.queues.purge().await.unwrap();
    assert_eq!(app.relay(cfg).sweep().await.unwrap().total(), 100);
    assert_eq!(unsent(&app, &t).await, 50);
}

async fn a_relay_crash_between_push_and_mark_pushes_no_duplicate(app: TestApp) {
    let t = app.tenant("acme").await;
    enqueue_touches(&app, &t, 25).await;
    // A relay pushed these rows and died before marking them sent.
    let db = app.tenant_db(&t).await;
    let rows = outbox::Entity::find().all(&db).await.unwrap();
    let envelopes = rows
        .iter()
        .map(|r| jobs::Envelope {
            name: r.job_name.clone(),
            tenant_id: t.tenant.id,
            outbox_id: r.id,
            attempt: 0,
            payload: r.payload.clone(),
            due_at_us: None,
            requeued: 0,
        })
        .collect();
    app.queues
        .push(Queue::Maintenance, envelopes)
        .await
        .unwrap();
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 25);
    // The next relay pushes them again: the backend drops the duplicates.
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.total(), 25);
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 25);
    assert_eq!(unsent(&app, &t).await, 0);
}

async fn a_retry_put_back_before_the_relay_marked_its_first_push_is_pushed_again(app: TestApp) {
    let t = app.tenant("acme").await;
    enqueue_touches(&app, &t, 1).await;
    let db = app.tenant_db(&t).await;
    let row = outbox::Entity::find().one(&db).await.unwrap().unwrap();
    // The relay pushed run 0; before it recorded the push, the job ran, failed and was put back
    // for run 1 (a fast worker in the same process does this within milliseconds).
    outbox::requeue(&db, row.id, 1, entities::now(), Some("boom".into()))
        .await
        .unwrap();
    let marked = outbox::mark_sent(&db, &[(row.id, 0)], entities::now())
        .await
        .unwrap();
    assert_eq!(marked, 0, "the push of run 0 does not count for run 1");
    assert_eq!(unsent(&app, &t).await, 1, "run 1 still waits for the relay");
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.total(), 1, "run 1 is pushed");
    assert_eq!(unsent(&app, &t).await, 0);
    let again = outbox::Entity::find_by_id(row.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt, 1);
}

async fn rows_due_later_wait_in_the_outbox(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let later = entities::now() + chrono::Duration::hours(1);
    jobs::outbox::enqueue_at(
        &db,
        &Touch {
            tenant_id: t.tenant.id,
            n: 1,
        },
        later,
    )
    .await
    .unwrap();
    jobs::outbox::enqueue(
        &db,
        &Touch {
            tenant_id: t.tenant.id,
            n: 2,
        },
    )
    .await
    .unwrap();
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.total(), 1);
    assert_eq!(unsent(&app, &t).await, 1);
}

shape_tests!(the_relay_of_a_running_app_moves_rows_and_reports_metrics);

async fn the_relay_of_a_running_app_moves_rows_and_reports_metrics(app: TestApp) {
    let t = app.tenant("acme").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = app.app.spawn_relay(stopped).unwrap();
    enqueue_touches(&app, &t, 3).await;
    app.app.waker.wake(t.tenant.id);
    let deadline = std::time::Instant::now() + tests::run::PATIENCE;
    while unsent(&app, &t).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay did not move the rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 3);
    let metrics = app.get("/metrics", None).await.text();
    assert!(
        metrics.contains(r#"nexus_outbox_relayed_total{queue="maintenance"} 3"#),
        "{metrics}"
    );
    // A row due later stays in the outbox and shows in the backlog of the next sweep.
    let later = entities::now() + chrono::Duration::hours(1);
    jobs::outbox::enqueue_at(
        &app.tenant_db(&t).await,
        &Touch {
            tenant_id: t.tenant.id,
            n: 9,
        },
        later,
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + tests::run::PATIENCE;
    while !app
        .get("/metrics", None)
        .await
        .text()
        .contains(r#"nexus_outbox_backlog{queue="maintenance"} 1"#)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the backlog metric never showed the row"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the relay stops on shutdown")
        .unwrap();
}

/// Distributed shape only: the API and the relay are different processes there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_an_api_process_wakes_the_relay_of_a_worker_process() {
    let Some(api) = TestApp::distributed().await else {
        return;
    };
    let t = api.tenant("acme").await;
    // A second app on the same databases and Redis plays the worker process; its relay sweeps
    // only once an hour, so only a wake-up through Redis can move the row in this test.
    let worker = TestApp::build(&api.vars).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let url = api.vars["REDIS_URL"].clone();
    let ns = api.vars["NEXUS_QUEUE_NAMESPACE"].clone();
    let listener_waker = worker.waker.clone();
    let listen_stop = stopped.clone();
    tokio::spawn(async move {
        listener_waker
            .listen(redis::Client::open(url).unwrap(), &ns, listen_stop)
            .await;
    });
    let relay = std::sync::Arc::new(workers::relay::Relay::new(
        worker.platform.clone(),
        worker.tenants.clone(),
        api.queues.clone(),
        worker.waker.clone(),
        RelayConfig {
            sweep_every: std::time::Duration::from_secs(3600),
            ..RelayConfig::default()
        },
        None,
    ));
    tokio::spawn(relay.run(stopped));
    // Let the relay's start-up sweep pass before committing.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    enqueue_touches(&api, &t, 1).await;
    assert_eq!(unsent(&api, &t).await, 1);
    let started = std::time::Instant::now();
    while unsent(&api, &t).await > 0 {
        assert!(
            started.elapsed() < tests::run::PATIENCE,
            "the worker's relay was never woken through Redis"
        );
        // As the API does after each commit (repeated in case the subscription is not up yet).
        api.app.waker.wake(t.tenant.id);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    stop.send(true).unwrap();
}

async fn rows_held_back_by_a_full_window_go_out_as_soon_as_there_is_room(app: TestApp) {
    let t = app.tenant("acme").await;
    enqueue_touches(&app, &t, 50).await;
    // Sweeps only once an hour and never woken: only the backlog passes can move the rest.
    let relay = std::sync::Arc::new(app.relay(RelayConfig {
        window: 10,
        sweep_every: std::time::Duration::from_secs(3600),
        backlog_every: std::time::Duration::from_millis(50),
        ..RelayConfig::default()
    }));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(relay.run(stopped));
    let started = std::time::Instant::now();
    while unsent(&app, &t).await > 0 {
        assert!(
            started.elapsed() < tests::run::PATIENCE,
            "{} rows still wait",
            unsent(&app, &t).await
        );
        assert!(app.queues.waiting(Queue::Maintenance).await.unwrap() <= 10);
        // A worker takes what is waiting.
        app.queues.purge().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    stop.send(true).unwrap();
}

/// A tenant whose database cannot be opened is skipped (reported with its error) and the tenants
/// after it are relayed in the same pass, on a sweep and on a wake-up alike.
async fn a_tenant_whose_database_fails_is_skipped_and_the_others_are_relayed(app: TestApp) {
    let broken = app.tenant("aaa-rota").await;
    let good = app.tenant("zzz-sana").await;
    enqueue_touches(&app, &good, 7).await;
    app.break_tenant_database(&broken).await;
    let relay = app.relay(RelayConfig::default());
    let report = relay
        .sweep()
        .await
        .expect("the sweep goes on past the broken tenant");
    assert_eq!(report.total(), 7, "the healthy tenant's rows are pushed");
    assert_eq!(
        report.failed_tenants.len(),
        1,
        "{:?}",
        report.failed_tenants
    );
    assert_eq!(report.failed_tenants[0].0, "aaa-rota");
    assert_eq!(unsent(&app, &good).await, 0);
    enqueue_touches(&app, &good, 2).await;
    let report = relay
        .relay_tenants([broken.tenant.id, good.tenant.id])
        .await
        .expect("a wake-up goes on past the broken tenant");
    assert_eq!(report.total(), 2);
    assert_eq!(report.failed_tenants.len(), 1);
}
