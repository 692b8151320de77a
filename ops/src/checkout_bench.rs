//! `nexus bench checkout`: drives a running Nexus over HTTP the way counters do. It stocks and
//! prices items through the API, then `clients` cashiers post checkouts of `lines` lines each for
//! `seconds`, and finally reads stock by branch cold (a cache miss) and warm (a hit). Prints
//! sales/s and latency percentiles, and one JSON line.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of the API.
    pub url: String,
    /// A user of the tenant with the owner or admin role.
    pub email: String,
    /// Their password.
    pub password: String,
    /// Concurrent cashiers.
    pub clients: usize,
    /// How long to sell.
    pub seconds: u64,
    /// Lines per sale.
    pub lines: usize,
    /// Items to make and sell from.
    pub items: usize,
    /// The server's pid, to measure its CPU (and PostgreSQL's) while selling (Linux `/proc`).
    pub server_pid: Option<u32>,
}

/// The measurements.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Sales made.
    pub sales: u64,
    /// Sales refused (409, e.g. stock).
    pub refused: u64,
    /// Other errors.
    pub errors: u64,
    /// Sales per second.
    pub sales_per_s: f64,
    /// Checkout latency percentiles in ms.
    pub checkout_p50_ms: f64,
    /// 99th percentile.
    pub checkout_p99_ms: f64,
    /// Stock-by-branch on a cache miss, ms.
    pub stock_miss_p50_ms: f64,
    /// 99th percentile.
    pub stock_miss_p99_ms: f64,
    /// Stock-by-branch on a cache hit, ms.
    pub stock_hit_p50_ms: f64,
    /// 99th percentile.
    pub stock_hit_p99_ms: f64,
    /// Hits among the warm reads (should be all).
    pub stock_hits: u64,
    /// CPU of the server per sale while selling, ms (with `server_pid`).
    pub server_cpu_ms_per_sale: Option<f64>,
    /// CPU of every PostgreSQL process on this machine per sale while selling, ms.
    pub postgres_cpu_ms_per_sale: Option<f64>,
    /// CPU of this load generator per sale, ms.
    pub client_cpu_ms_per_sale: Option<f64>,
}

/// CPU seconds (user + system) of a process, from `/proc/<pid>/stat`.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

/// CPU seconds of every `postgres` process (backends come and go; the sum of the living ones).
fn postgres_secs() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let pid = e.file_name().into_string().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() == "postgres")
                .then(|| cpu_secs(&pid))
                .flatten()
        })
        .sum()
}

/// (server, postgres, this process) CPU seconds now.
fn cpu_now(server: Option<u32>) -> Option<(f64, f64, f64)> {
    let pid = server?;
    Some((
        cpu_secs(&pid.to_string())?,
        postgres_secs(),
        cpu_secs("self")?,
    ))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list of samples"
    )]
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> Result<(u16, Value, Option<String>)> {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.with_context(|| url.to_owned())?;
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let v = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, v, cache))
}

fn ok(what: &str, (status, v, _): &(u16, Value, Option<String>)) -> Result<()> {
    if (200..300).contains(status) {
        Ok(())
    } else {
        bail!("{what}: {status} {v}")
    }
}

/// Runs the benchmark.
///
/// # Errors
/// When the API refuses the set-up.
pub async fn run(s: Settings) -> Result<Report> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(s.clients * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = s.url.trim_end_matches('/').to_owned();
    let login = http
        .post(format!("{base}/pos/api/auth/login"))
        .json(&json!({"email": s.email, "password": s.password}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    let token = login["access_token"]
        .as_str()
        .with_context(|| format!("login: {login}"))?
        .to_owned();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let r = call(
        &http,
        get.clone(),
        &format!("{base}/pos/api/branches"),
        &token,
        None,
    )
    .await?;
    ok("branches", &r)?;
    let branch = r.1["items"][0]["id"]
        .as_str()
        .context("a branch")?
        .to_owned();
    let r = call(
        &http,
        get.clone(),
        &format!("{base}/pos/api/branches/{branch}/warehouses"),
        &token,
        None,
    )
    .await?;
    ok("warehouses", &r)?;
    let wh = r.1["items"][0]["id"]
        .as_str()
        .context("a warehouse")?
        .to_owned();

    eprintln!("making {} items with prices and stock…", s.items);
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let mut items = Vec::with_capacity(s.items);
    for i in 0..s.items {
        let price = 100 + (i % 900);
        let r = call(
            &http,
            post.clone(),
            &format!("{base}/pos/api/items"),
            &token,
            Some(&json!({
                "sku": format!("B{}-{i}", &run_id[..8]),
                "name": format!("Pieza de banco {i}"),
                "retail_price": format!("{}.00", price + 20),
                "min_qty": 1
            })),
        )
        .await?;
        ok("item", &r)?;
        let id = r.1["id"].as_str().context("item id")?.to_owned();
        let r = call(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/pos/api/items/{id}/prices"),
            &token,
            Some(&json!({"prices": [{"price_list": "mostrador", "amount": format!("{price}.50"), "currency": "MXN"}]})),
        )
        .await?;
        ok("price", &r)?;
        items.push(id);
    }
    for chunk in items.chunks(200) {
        let lines: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"item_id": id, "delta": 1_000_000}))
            .collect();
        let r = call(
            &http,
            post.clone(),
            &format!("{base}/pos/api/inventory/adjustments"),
            &token,
            Some(&json!({"warehouse_id": wh, "lines": lines, "reason": "initial"})),
        )
        .await?;
        ok("stock", &r)?;
    }

    eprintln!(
        "selling: {} cashiers, {} lines a sale, {} s…",
        s.clients, s.lines, s.seconds
    );
    let deadline = Instant::now() + Duration::from_secs(s.seconds);
    let mut tasks = Vec::new();
    for _ in 0..s.clients {
        let (http, base, token, items, branch, wh) = (
            http.clone(),
            base.clone(),
            token.clone(),
            items.clone(),
            branch.clone(),
            wh.clone(),
        );
        let lines = s.lines;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut refused, mut errors) = (0u64, 0u64);
            let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
            let mut idx: Vec<usize> = (0..items.len()).collect();
            let lines = lines.min(items.len());
            while Instant::now() < deadline {
                // A partial shuffle: `lines` distinct items.
                for k in 0..lines {
                    let j = rng.random_range(k..idx.len());
                    idx.swap(k, j);
                }
                let picked: Vec<Value> = idx[..lines]
                    .iter()
                    .map(|i| json!({"item_id": items[*i], "warehouse_id": wh, "qty": 1}))
                    .collect();
                let body = json!({
                    "branch_id": branch,
                    "lines": picked,
                    "payments": [{"method": "cash", "amount": "1000000.00"}]
                });
                let t = Instant::now();
                match call(
                    &http,
                    reqwest::Method::POST,
                    &format!("{base}/pos/api/sales"),
                    &token,
                    Some(&body),
                )
                .await
                {
                    Ok((201, _, _)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    Ok((409, _, _)) => refused += 1,
                    _ => errors += 1,
                }
            }
            (lat, refused, errors)
        }));
    }
    let started = Instant::now();
    let cpu0 = cpu_now(s.server_pid);
    let mut lat = Vec::new();
    let (mut refused, mut errors) = (0, 0);
    for t in tasks {
        let (l, r, e) = t.await?;
        lat.extend(l);
        refused += r;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu1 = cpu_now(s.server_pid);
    let sales = lat.len() as u64;
    #[expect(clippy::cast_precision_loss, reason = "a count of sales")]
    let per_sale = |a: f64, b: f64| (sales > 0).then(|| 1000.0 * (b - a) / sales as f64);
    let (server_cpu, pg_cpu, client_cpu) = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (per_sale(a.0, b.0), per_sale(a.1, b.1), per_sale(a.2, b.2)),
        _ => (None, None, None),
    };

    eprintln!("reading stock by branch, cold then warm…");
    let (mut miss, mut hit) = (Vec::new(), Vec::new());
    let mut hits = 0;
    for id in items.iter().take(500) {
        let url = format!("{base}/pos/api/items/{id}/stock");
        for round in 0..2 {
            let t = Instant::now();
            let r = call(&http, get.clone(), &url, &token, None).await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            ok("stock-by-branch", &r)?;
            if round == 0 {
                miss.push(ms);
            } else {
                if r.2.as_deref() == Some("hit") {
                    hits += 1;
                }
                hit.push(ms);
            }
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    let sales_per_s = sales as f64 / elapsed;
    Ok(Report {
        sales,
        refused,
        errors,
        sales_per_s,
        checkout_p50_ms: pct(&mut lat, 0.50),
        checkout_p99_ms: pct(&mut lat, 0.99),
        stock_miss_p50_ms: pct(&mut miss, 0.50),
        stock_miss_p99_ms: pct(&mut miss, 0.99),
        stock_hit_p50_ms: pct(&mut hit, 0.50),
        stock_hit_p99_ms: pct(&mut hit, 0.99),
        stock_hits: hits,
        server_cpu_ms_per_sale: server_cpu,
        postgres_cpu_ms_per_sale: pg_cpu,
        client_cpu_ms_per_sale: client_cpu,
    })
}
