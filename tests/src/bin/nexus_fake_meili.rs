//! The fake Meilisearch as a process, for benchmarks: `nexus_fake_meili [ADDR] [--sink]`.
//! With `--sink` documents are counted and dropped and tasks succeed at once; `GET /stats/sink`
//! gives the counts. Stops on Ctrl-C or SIGTERM.

#![allow(
    clippy::expect_used,
    reason = "a test tool: a failed start is a failed run"
)]

use tests::fakes::meili::FakeMeili;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sink = args.iter().any(|a| a == "--sink");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:7700".into());
    let fake = if sink {
        FakeMeili::start_sink(&addr).await
    } else {
        FakeMeili::start_on(&addr, None).await
    };
    println!("fake meilisearch on {}", fake.url);
    let _ = tokio::signal::ctrl_c().await;
    let (docs, bytes) = fake.sink_counts();
    println!("received {docs} documents, {bytes} bytes");
}
