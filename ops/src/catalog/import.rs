//! `nexus catalog import-aces` and `import-pies`: stream an ACES or PIES file into the catalog.
//!
//! Records are applied in transactions of [`BATCH`] records; each record runs in a savepoint, so
//! a bad record is reported (with its line) and skipped without undoing its neighbours. When the
//! XML itself breaks, reading stops there: every record before the broken spot is kept
//! (committed), nothing after it is read, and the report names the line.

use std::path::Path;

use anyhow::{Context, Result};
use entities::catalog::write::{self, FitmentInput, PartInput, VehicleRef};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde::Serialize;

use super::xml::{self, Item, Record};

/// Records per transaction.
pub const BATCH: usize = 500;
/// Record errors listed in a report (the count includes all).
pub const MAX_LISTED_ERRORS: usize = 100;

/// A record that could not be applied.
#[derive(Debug, Clone, Serialize)]
pub struct RecordError {
    /// Line where the record starts.
    pub line: u64,
    /// The record's `id` attribute or part number, when it has one.
    pub record: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Records read.
    pub records: u64,
    /// Records applied.
    pub applied: u64,
    /// Parts created (PIES) or fitment rows added (ACES).
    pub created: u64,
    /// Parts updated (PIES) or fitment rows that already existed (ACES duplicates).
    pub duplicates: u64,
    /// Fitment rows deleted (ACES `action="D"`).
    pub deleted: u64,
    /// Records skipped for an error.
    pub failed: u64,
    /// The first errors.
    pub errors: Vec<RecordError>,
    /// Where the XML broke, when it did: `(line, message)`.
    pub broken: Option<(u64, String)>,
}

impl ImportReport {
    fn error(&mut self, rec: &Record, id: Option<String>, message: String) {
        self.failed += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(RecordError {
                line: rec.line,
                record: id,
                message,
            });
        }
    }
}

/// Which standard a file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ACES applications (fitment).
    Aces,
    /// PIES items (product data).
    Pies,
}

/// Imports a file, calling `progress` with the records read so far.
///
/// # Errors
/// When the file cannot be opened or the database fails (record errors are in the report).
pub async fn import(
    db: &DatabaseConnection,
    kind: Kind,
    path: &Path,
    progress: impl Fn(u64),
) -> Result<ImportReport> {
    let (record, header) = match kind {
        Kind::Aces => ("App", "Header"),
        Kind::Pies => ("Item", "Header"),
    };
    let mut rx = xml::stream(path, record, header)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut report = ImportReport::default();
    let mut header_brand: Option<String> = None;
    let mut txn = entities::db::begin_write(db).await?;
    let mut in_batch = 0;
    let mut touched: Vec<i64> = Vec::new();
    while let Some(item) = rx.recv().await {
        match item {
            Item::Header(h) => {
                header_brand = h.text("BrandAAIAID").map(str::to_owned);
            }
            Item::Broken { line, message } => {
                report.broken = Some((line, message));
                break;
            }
            Item::Record(rec) => {
                report.records += 1;
                #[expect(
                    clippy::disallowed_methods,
                    reason = "a savepoint inside the import's write transaction"
                )]
                let sp = txn.begin().await?;
                let outcome = match kind {
                    Kind::Aces => aces_app(&sp, &rec, header_brand.as_deref(), &mut report).await,
                    Kind::Pies => pies_item(&sp, &rec, &mut report).await,
                };
                match outcome {
                    Ok(part_id) => {
                        sp.commit().await?;
                        report.applied += 1;
                        touched.push(part_id);
                    }
                    Err(e) => {
                        sp.rollback().await?;
                        let id = rec
                            .node("")
                            .and_then(|n| n.attr("id"))
                            .map(str::to_owned)
                            .or_else(|| {
                                rec.text("PartNumber")
                                    .or(rec.text("Part"))
                                    .map(str::to_owned)
                            });
                        report.error(&rec, id, e.to_string());
                    }
                }
                in_batch += 1;
                if in_batch == BATCH {
                    write::finish_batch(&txn, &mut touched).await?;
                    txn.commit().await?;
                    txn = entities::db::begin_write(db).await?;
                    in_batch = 0;
                    progress(report.records);
                }
            }
        }
    }
    write::finish_batch(&txn, &mut touched).await?;
    txn.commit().await?;
    progress(report.records);
    Ok(report)
}

fn int<T: std::str::FromStr>(rec: &Record, path: &str, attr: &str) -> Result<Option<T>, String> {
    match rec.node(path).and_then(|n| n.attr(attr)) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{path} {attr}=\"{v}\" is not a number")),
    }
}

async fn aces_app(
    txn: &DatabaseTransaction,
    rec: &Record,
    header_brand: Option<&str>,
    report: &mut ImportReport,
) -> Result<i64, anyhow::Error> {
    let root = rec.node("").context("empty record")?;
    let delete = match root.attr("action").unwrap_or("A") {
        "A" | "a" => false,
        "D" | "d" => true,
        other => anyhow::bail!("action \"{other}\" is neither A nor D"),
    };
    let years = match (
        int::<i16>(rec, "Years", "from").map_err(anyhow::Error::msg)?,
        int::<i16>(rec, "Years", "to").map_err(anyhow::Error::msg)?,
    ) {
        (Some(f), Some(t)) if f <= t => Some((f, t)),
        (Some(f), Some(t)) => anyhow::bail!("Years from {f} is after to {t}"),
        _ => None,
    };
    let vref = VehicleRef {
        base_vehicle_id: int(rec, "BaseVehicle", "id").map_err(anyhow::Error::msg)?,
        years,
        make_vcdb_id: int(rec, "Make", "id").map_err(anyhow::Error::msg)?,
        model_vcdb_id: int(rec, "Model", "id").map_err(anyhow::Error::msg)?,
        engine_base_id: int(rec, "EngineBase", "id").map_err(anyhow::Error::msg)?,
    };
    let vehicles = write::vehicles_for(txn, &vref).await?;
    if vehicles.is_empty() {
        anyhow::bail!(
            "unknown vehicle: no catalog vehicle matches {}",
            describe(&vref)
        );
    }
    let number = rec.text("Part").context("the application has no Part")?;
    let brand_code = rec
        .node("Part")
        .and_then(|n| n.attr("BrandAAIAID"))
        .or(header_brand)
        .context("no BrandAAIAID on the Part or in the Header")?;
    let brand = write::brand_id(txn, Some(brand_code), None).await?;
    let part_id = write::find_part(txn, brand, number)
        .await?
        .with_context(|| {
            format!("unknown part {number} of brand {brand_code}: import its PIES item first")
        })?;
    let qty: i16 = match rec.text("Qty") {
        Some(q) => q
            .parse()
            .ok()
            .filter(|q| (1..=100).contains(q))
            .with_context(|| format!("Qty \"{q}\" is not 1 to 100"))?,
        None => 1,
    };
    let position = int::<i32>(rec, "Position", "id")
        .map_err(anyhow::Error::msg)?
        .map(|p| format!("PCdb {p}"))
        .unwrap_or_default();
    let notes: Vec<&str> = rec
        .all("Note")
        .map(|n| n.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let quals: Vec<serde_json::Value> = rec
        .all("Qual")
        .map(|q| {
            let text = rec
                .nodes
                .iter()
                .find(|n| n.path == "Qual/text")
                .map(|n| n.text.clone());
            serde_json::json!({"id": q.attr("id"), "text": text})
        })
        .collect();
    let fit = FitmentInput {
        part_id,
        vehicle_ids: vehicles,
        position,
        qty,
        qualifiers: (!quals.is_empty()).then_some(serde_json::Value::Array(quals)),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    };
    if delete {
        report.deleted += write::delete_fitment(txn, &fit).await?;
    } else {
        let existed = write::put_fitment(txn, &fit).await?;
        report.duplicates += existed;
        report.created += fit.vehicle_ids.len() as u64 - existed;
    }
    Ok(part_id)
}

fn describe(v: &VehicleRef) -> String {
    match (v.base_vehicle_id, v.years) {
        (Some(id), _) => format!("BaseVehicle {id}"),
        (None, Some((f, t))) => format!(
            "Years {f}-{t} Make {} Model {}",
            v.make_vcdb_id.unwrap_or_default(),
            v.model_vcdb_id.unwrap_or_default()
        ),
        _ => "the application".into(),
    }
}

async fn pies_item(
    txn: &DatabaseTransaction,
    rec: &Record,
    report: &mut ImportReport,
) -> Result<i64, anyhow::Error> {
    let number = rec
        .text("PartNumber")
        .context("the item has no PartNumber")?;
    let brand = write::brand_id(txn, rec.text("BrandAAIAID"), rec.text("BrandLabel")).await?;
    let desc = |code: &str| {
        rec.all("Descriptions/Description")
            .find(|d| d.attr("DescriptionCode") == Some(code) && !d.text.is_empty())
            .map(|d| d.text.clone())
    };
    let name = desc("SHO")
        .or_else(|| desc("DES"))
        .or_else(|| desc("MKT"))
        .unwrap_or_else(|| number.to_owned());
    let category_id = match rec.text("PartTerminologyID") {
        Some(t) => {
            let id: i32 = t
                .parse()
                .map_err(|_| anyhow::anyhow!("PartTerminologyID \"{t}\" is not a number"))?;
            write::category_by_pcdb(txn, id).await?
        }
        None => None,
    };
    // Reference retail price: the LST (list) price in MXN. Other currencies are not converted
    // here: the catalog's reference price is in pesos.
    let mut price = None;
    let pricings: Vec<usize> = rec
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.path == "Prices/Pricing" && n.attr("PriceType") == Some("LST"))
        .map(|(i, _)| i)
        .collect();
    for i in pricings {
        let mut currency = None;
        let mut amount = None;
        for n in rec.nodes[i + 1..]
            .iter()
            .take_while(|n| n.path.starts_with("Prices/Pricing/"))
        {
            match n.path.as_str() {
                "Prices/Pricing/CurrencyCode" => currency = Some(n.text.clone()),
                "Prices/Pricing/Price" => amount = Some(n.text.clone()),
                _ => {}
            }
        }
        if currency.as_deref().unwrap_or("MXN") == "MXN"
            && let Some(a) = amount
        {
            let d: rust_decimal::Decimal = a
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("Price \"{a}\" is not a number"))?;
            let cents = (d * rust_decimal::Decimal::from(100)).round();
            price = Some(
                i64::try_from(cents)
                    .ok()
                    .filter(|c| *c >= 0)
                    .with_context(|| format!("Price \"{a}\" is out of range"))?,
            );
        }
    }
    let mut interchange = Vec::new();
    let xrefs: Vec<usize> = rec
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.path == "PartInterchangeInfo/PartInterchange")
        .map(|(i, _)| i)
        .collect();
    for i in xrefs {
        let x = &rec.nodes[i];
        let xbrand = x
            .attr("BrandLabel")
            .or(x.attr("BrandAAIAID"))
            .unwrap_or("")
            .to_owned();
        let kind = if x.attr("QualityGradeLevel") == Some("OE")
            || x.attr("InterchangeType") == Some("OE")
        {
            "oe"
        } else {
            "aftermarket"
        };
        for n in rec.nodes[i + 1..]
            .iter()
            .take_while(|n| n.path.starts_with("PartInterchangeInfo/PartInterchange/"))
            .filter(|n| n.path == "PartInterchangeInfo/PartInterchange/PartNumber")
        {
            interchange.push((kind.to_owned(), xbrand.clone(), n.text.clone()));
        }
    }
    let mut attrs = serde_json::Map::new();
    for (key, path) in [
        ("gtin", "ItemLevelGTIN"),
        ("unspsc", "UNSPSC"),
        ("min_order_qty", "MinimumOrderQuantity"),
    ] {
        if let Some(v) = rec.text(path) {
            attrs.insert(key.into(), v.into());
        }
    }
    let packages: Vec<serde_json::Value> = rec
        .nodes
        .iter()
        .filter(|n| n.path.starts_with("Packages/Package/") && !n.text.is_empty())
        .map(|n| {
            let mut m = serde_json::Map::new();
            m.insert(
                n.path["Packages/Package/".len()..].to_owned(),
                n.text.clone().into(),
            );
            if let Some(u) = n.attr("UOM") {
                m.insert("uom".into(), u.into());
            }
            serde_json::Value::Object(m)
        })
        .collect();
    if !packages.is_empty() {
        attrs.insert("package".into(), packages.into());
    }
    let input = PartInput {
        brand_id: brand,
        number: number.to_owned(),
        name,
        description: desc("DES").or_else(|| desc("MKT")),
        category_id,
        attributes: (!attrs.is_empty()).then_some(serde_json::Value::Object(attrs)),
        sat_product_key: None,
        retail_price_cents: price,
        interchange: Some(interchange),
    };
    let (id, created) = write::upsert_part(txn, &input).await?;
    if created {
        report.created += 1;
    } else {
        report.duplicates += 1;
    }
    Ok(id)
}
