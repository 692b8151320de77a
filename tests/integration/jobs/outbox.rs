//! The outbox: jobs are recorded in the business transaction, or not at all.

use entities::jobs::tables::outbox;
use jobs::{Job, Queue};
use sea_orm::{EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    jobs_enqueued_in_a_committed_transaction_are_in_the_outbox,
    jobs_enqueued_in_a_rolled_back_transaction_leave_no_row,
);

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Reindex {
    tenant_id: Uuid,
    part_id: i64,
}

impl Job for Reindex {
    const NAME: &'static str = "test_reindex";
    const QUEUE: Queue = Queue::Search;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

async fn jobs_enqueued_in_a_committed_transaction_are_in_the_outbox(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let txn = entities::db::begin_write(&db).await.unwrap();
    let first = jobs::outbox::enqueue(
        &txn,
        &Reindex {
            tenant_id: t.tenant.id,
            part_id: 1,
        },
    )
    .await
    .unwrap();
    let later = entities::now() + chrono::Duration::minutes(5);
    let second = jobs::outbox::enqueue_at(
        &txn,
        &Reindex {
            tenant_id: t.tenant.id,
            part_id: 2,
        },
        later,
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert!(second > first);
    let rows = outbox::Entity::find()
        .order_by_asc(outbox::Column::Id)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].job_name, "test_reindex");
    assert_eq!(rows[0].queue, "search");
    assert_eq!(rows[0].sent_at, None);
    assert_eq!(rows[1].available_at, later);
    let env = jobs::Envelope {
        name: rows[1].job_name.clone(),
        tenant_id: t.tenant.id,
        outbox_id: rows[1].id,
        attempt: 0,
        payload: rows[1].payload.clone(),
        due_at_us: None,
        requeued: 0,
    };
    assert_eq!(
        env.decode::<Reindex>().unwrap(),
        Reindex {
            tenant_id: t.tenant.id,
            part_id: 2
        }
    );
}

async fn jobs_enqueued_in_a_rolled_back_transaction_leave_no_row(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let txn = entities::db::begin_write(&db).await.unwrap();
    jobs::outbox::enqueue(
        &txn,
        &Reindex {
            tenant_id: t.tenant.id,
            part_id: 1,
        },
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();
    assert!(outbox::Entity::find().all(&db).await.unwrap().is_empty());
}
