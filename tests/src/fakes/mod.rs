//! Local fakes of third-party providers, following their documented contracts
//! (`reference/domain.md` §10), run on loopback ports. Test fixtures only: no production path
//! reaches them.

pub mod facturapi;
pub mod meili;
pub mod s3;
pub mod smtp;
pub mod vpic;
pub mod whatsapp;

/// Serves `router` on a free loopback port until the returned sender is dropped; answers the
/// base URL (`http://127.0.0.1:<port>`).
pub async fn serve_on_loopback(
    router: axum::Router,
    what: &str,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind the {what}: {e}"));
    let addr = listener.local_addr().expect("fake address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (format!("http://{addr}"), stop)
}
