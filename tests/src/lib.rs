//! The integration-suite harness: [`TestApp`] builds the whole application in-process on a fresh
//! data folder (embedded shape) or on fresh PostgreSQL databases with Redis (distributed shape),
//! creates tenants and users, and sends requests through the real router.
//!
//! Every scenario runs in both shapes through [`shape_tests!`]; the distributed run needs
//! `NEXUS_TEST_POSTGRES_URL` and `NEXUS_TEST_REDIS_URL` and is skipped with a note without them
//! (and fails under `CI`, where they must be set).

#![allow(
    clippy::expect_used,
    reason = "test harness: a failed set-up is a failed test"
)]

pub mod app;
pub mod cfdi;
pub mod fakes;
pub mod faults;
pub mod pg;
pub mod procs;
pub mod run;
pub mod shop;

pub use app::{PASSWORD, Shape, TestApp, TestResponse, TestTenant};

/// Declares scenarios (async fns taking a [`TestApp`]) as two tests each: `embedded` and
/// `distributed`.
#[macro_export]
macro_rules! shape_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::TestApp::new($crate::Shape::Embedded).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn distributed() {
                    if let Some(app) = $crate::TestApp::distributed().await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}
