//! `nexus catalog generate`: a deterministic, realistic synthetic catalog of the Mexican market
//! (makes, models and engines from `ops/data/mx_vehicles.txt`, Spanish part names, 10–20 vehicles
//! per part, OE and aftermarket interchange, supersessions), loaded in bulk.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use entities::catalog::docs::PartDoc;
use entities::catalog::text::normalize_number;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use super::bulk::{Bulk, Cell};

const VEHICLES: &str = include_str!("../../data/mx_vehicles.txt");

/// How a generation run is asked for.
#[derive(Debug, Clone, Copy)]
pub struct GenOptions {
    /// Parts to generate.
    pub parts: u64,
    /// Seed: the same seed and count give the same catalog.
    pub seed: u64,
    /// Delete the existing catalog first (otherwise a non-empty catalog is refused).
    pub replace: bool,
}

/// What a run wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenReport {
    /// Vehicles.
    pub vehicles: u64,
    /// Parts.
    pub parts: u64,
    /// Fitment rows.
    pub fitment: u64,
    /// Interchange rows.
    pub interchange: u64,
}

impl GenReport {
    /// Every row written.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.vehicles + self.parts + self.fitment + self.interchange
    }
}

/// SplitMix64: tiny, fast and fixed forever, so a seed gives the same catalog on every version
/// of every dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A part type: its Spanish name, variants that complete a part's name, positions, SAT keys and
/// a retail price range in pesos.
struct Kind {
    name: &'static str,
    name_en: &'static str,
    pcdb: i32,
    variants: &'static [&'static str],
    positions: &'static [&'static str],
    sat: &'static str,
    unit: &'static str,
    price: (u64, u64),
}

const KINDS: &[Kind] = &[
    Kind {
        name: "Balata",
        name_en: "Brake Pad",
        pcdb: 1684,
        variants: &["cerámica", "semimetálica", "orgánica"],
        positions: &["Delantera", "Trasera"],
        sat: "25171700",
        unit: "KT",
        price: (350, 1800),
    },
    Kind {
        name: "Disco de freno",
        name_en: "Brake Rotor",
        pcdb: 1896,
        variants: &["ventilado", "sólido", "ranurado"],
        positions: &["Delantero", "Trasero"],
        sat: "25171700",
        unit: "H87",
        price: (600, 3200),
    },
    Kind {
        name: "Tambor de freno",
        name_en: "Brake Drum",
        pcdb: 1872,
        variants: &["estándar"],
        positions: &["Trasero"],
        sat: "25171700",
        unit: "H87",
        price: (700, 2500),
    },
    Kind {
        name: "Amortiguador",
        name_en: "Shock Absorber",
        pcdb: 7600,
        variants: &["hidráulico", "de gas", "deportivo"],
        positions: &["Delantero", "Trasero"],
        sat: "25172000",
        unit: "H87",
        price: (700, 4200),
    },
    Kind {
        name: "Bujía",
        name_en: "Spark Plug",
        pcdb: 7212,
        variants: &["de iridio", "de platino", "de cobre"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (60, 480),
    },
    Kind {
        name: "Filtro de aceite",
        name_en: "Oil Filter",
        pcdb: 5340,
        variants: &["estándar", "alto rendimiento"],
        positions: &[""],
        sat: "40161500",
        unit: "H87",
        price: (80, 420),
    },
    Kind {
        name: "Filtro de aire",
        name_en: "Air Filter",
        pcdb: 6192,
        variants: &["de motor", "de alto flujo"],
        positions: &[""],
        sat: "40161500",
        unit: "H87",
        price: (120, 700),
    },
    Kind {
        name: "Filtro de cabina",
        name_en: "Cabin Air Filter",
        pcdb: 6832,
        variants: &["de carbón activado", "estándar"],
        positions: &[""],
        sat: "40161500",
        unit: "H87",
        price: (150, 600),
    },
    Kind {
        name: "Filtro de gasolina",
        name_en: "Fuel Filter",
        pcdb: 6208,
        variants: &["en línea", "de tanque"],
        positions: &[""],
        sat: "40161500",
        unit: "H87",
        price: (120, 900),
    },
    Kind {
        name: "Banda de accesorios",
        name_en: "Serpentine Belt",
        pcdb: 6412,
        variants: &["micro-V", "reforzada"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (250, 1100),
    },
    Kind {
        name: "Banda de distribución",
        name_en: "Timing Belt",
        pcdb: 6420,
        variants: &["kit", "sola"],
        positions: &[""],
        sat: "26101700",
        unit: "KT",
        price: (600, 4500),
    },
    Kind {
        name: "Bomba de agua",
        name_en: "Water Pump",
        pcdb: 1240,
        variants: &["con empaque", "con carcasa"],
        positions: &[""],
        sat: "25174000",
        unit: "H87",
        price: (700, 3800),
    },
    Kind {
        name: "Termostato",
        name_en: "Thermostat",
        pcdb: 4732,
        variants: &["con carcasa", "sin carcasa"],
        positions: &[""],
        sat: "25174000",
        unit: "H87",
        price: (180, 1400),
    },
    Kind {
        name: "Radiador",
        name_en: "Radiator",
        pcdb: 4860,
        variants: &["de aluminio", "de cobre"],
        positions: &[""],
        sat: "25174000",
        unit: "H87",
        price: (1800, 7500),
    },
    Kind {
        name: "Rótula",
        name_en: "Ball Joint",
        pcdb: 7160,
        variants: &["inferior", "superior"],
        positions: &["Izquierda", "Derecha", ""],
        sat: "25172000",
        unit: "H87",
        price: (250, 1300),
    },
    Kind {
        name: "Terminal de dirección",
        name_en: "Tie Rod End",
        pcdb: 8288,
        variants: &["exterior", "interior"],
        positions: &["Izquierda", "Derecha"],
        sat: "25174200",
        unit: "H87",
        price: (220, 1200),
    },
    Kind {
        name: "Horquilla",
        name_en: "Control Arm",
        pcdb: 7140,
        variants: &["inferior", "superior"],
        positions: &["Delantera izquierda", "Delantera derecha"],
        sat: "25172000",
        unit: "H87",
        price: (700, 3500),
    },
    Kind {
        name: "Kit de clutch",
        name_en: "Clutch Kit",
        pcdb: 1528,
        variants: &["con collarín", "completo"],
        positions: &[""],
        sat: "26101700",
        unit: "KT",
        price: (1800, 9500),
    },
    Kind {
        name: "Bomba de gasolina",
        name_en: "Fuel Pump",
        pcdb: 6248,
        variants: &["eléctrica", "módulo completo"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (800, 5200),
    },
    Kind {
        name: "Sensor de oxígeno",
        name_en: "Oxygen Sensor",
        pcdb: 5868,
        variants: &["precatalizador", "poscatalizador"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (600, 3200),
    },
    Kind {
        name: "Bobina de encendido",
        name_en: "Ignition Coil",
        pcdb: 7168,
        variants: &["individual", "de bloque"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (450, 2600),
    },
    Kind {
        name: "Empaque de cabeza",
        name_en: "Head Gasket",
        pcdb: 5860,
        variants: &["multicapa", "de grafito"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (300, 2200),
    },
    Kind {
        name: "Alternador",
        name_en: "Alternator",
        pcdb: 1,
        variants: &["nuevo", "reconstruido"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (2500, 9800),
    },
    Kind {
        name: "Marcha",
        name_en: "Starter",
        pcdb: 1390,
        variants: &["nueva", "reconstruida"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (2200, 8500),
    },
    Kind {
        name: "Acumulador",
        name_en: "Battery",
        pcdb: 1676,
        variants: &["libre de mantenimiento", "AGM"],
        positions: &[""],
        sat: "26111700",
        unit: "H87",
        price: (1800, 6500),
    },
    Kind {
        name: "Foco",
        name_en: "Bulb",
        pcdb: 8504,
        variants: &["halógeno", "LED"],
        positions: &["Delantero", "Trasero"],
        sat: "26101700",
        unit: "H87",
        price: (40, 600),
    },
    Kind {
        name: "Mofle",
        name_en: "Muffler",
        pcdb: 5780,
        variants: &["deportivo", "estándar"],
        positions: &[""],
        sat: "26101700",
        unit: "H87",
        price: (900, 4200),
    },
    Kind {
        name: "Baleros de rueda",
        name_en: "Wheel Bearing",
        pcdb: 7320,
        variants: &["con maza", "sencillo"],
        positions: &["Delantero", "Trasero"],
        sat: "31171500",
        unit: "H87",
        price: (450, 2800),
    },
    Kind {
        name: "Soporte de motor",
        name_en: "Engine Mount",
        pcdb: 3280,
        variants: &["hidráulico", "de hule"],
        positions: &["Delantero", "Trasero", "Izquierdo", "Derecho"],
        sat: "26101700",
        unit: "H87",
        price: (350, 2400),
    },
    Kind {
        name: "Plumas limpiaparabrisas",
        name_en: "Wiper Blade",
        pcdb: 8852,
        variants: &["de silicón", "convencional"],
        positions: &["Conductor", "Pasajero", "Trasera"],
        sat: "26101700",
        unit: "H87",
        price: (90, 450),
    },
];

/// A brand: name, Auto Care code, the prefix of its numbers and how it separates them.
const BRANDS: &[(&str, &str, &str, &str)] = &[
    ("Bosch", "BBHK", "BP", "-"),
    ("Brembo", "BRMB", "P", " "),
    ("Monroe", "MNRO", "MR", ""),
    ("Gonher", "GNHR", "GP", "-"),
    ("LTH", "LTHX", "L", "-"),
    ("Wagner", "WGNR", "QC", ""),
    ("Moog", "MOOG", "K", ""),
    ("NGK", "NGKX", "BKR", ""),
    ("Champion", "CHMP", "RC", "-"),
    ("Fram", "FRAM", "PH", ""),
    ("Interfil", "INTF", "IF", "-"),
    ("Gates", "GATS", "K0", ""),
    ("Dayco", "DAYC", "5", ""),
    ("KYB", "KYBX", "3", ""),
    ("Syd", "SYDX", "SY", "-"),
    ("TF Victor", "TFVC", "TF", "-"),
    ("Valeo", "VALO", "V", ""),
    ("Sachs", "SACH", "S", "."),
    ("LuK", "LUKX", "6", ""),
    ("Denso", "DENS", "DN", "-"),
    ("ACDelco", "ACDL", "AC", "-"),
    ("Motorcraft", "MTRC", "FL", "-"),
    ("Hella", "HELA", "H", " "),
    ("Raybestos", "RYBS", "RB", ""),
    ("Fritec", "FRTC", "FT", "-"),
    ("Rymco", "RYMC", "RY", "-"),
    ("Boge", "BOGE", "B", "."),
    ("Injetech", "INJT", "IJ", "-"),
    ("Walker", "WLKR", "W", ""),
    ("Mahle", "MAHL", "OC", " "),
];

/// A vehicle of the data file.
struct GenVehicle {
    id: i32,
    year: i16,
    make_id: i32,
    model_id: i32,
    liters_x10: i16,
    cylinders: i16,
    fuel: &'static str,
    aspiration: &'static str,
    base_vehicle_id: i32,
    engine_base_id: i32,
}

struct GenModel {
    id: i32,
    make_id: i32,
    name: String,
    /// Vehicle ids of the model in (year, engine) order.
    vehicles: Vec<i32>,
}

struct Fleet {
    makes: Vec<(i32, String, String)>,
    models: Vec<GenModel>,
    vehicles: Vec<GenVehicle>,
}

fn parse_engine(code: &str) -> Result<(i16, i16, &'static str, &'static str)> {
    // "1.6L4", "3.5V6T", "2.5L4TD", "1.8L4H"
    let pos = code
        .find(['L', 'V'])
        .with_context(|| format!("engine {code}: no L/V"))?;
    let liters: f64 = code[..pos]
        .parse()
        .with_context(|| format!("engine {code}"))?;
    let rest = &code[pos + 1..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let cylinders: i16 = digits.parse().with_context(|| format!("engine {code}"))?;
    let flags = &rest[digits.len()..];
    let fuel = if flags.contains('D') {
        "diesel"
    } else if flags.contains('H') {
        "hibrido"
    } else {
        "gasolina"
    };
    let aspiration = if flags.contains('T') {
        "turbo"
    } else {
        "natural"
    };
    Ok(((liters * 10.0).round() as i16, cylinders, fuel, aspiration))
}

fn fleet() -> Result<Fleet> {
    let mut makes: Vec<(i32, String, String)> = Vec::new();
    let mut models = Vec::new();
    let mut vehicles = Vec::new();
    let mut engine_ids: HashMap<&str, i32> = HashMap::new();
    let mut base = 0;
    for (n, line) in VEHICLES.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('|').collect();
        let [make, country, model, years, engines] = f[..] else {
            bail!("mx_vehicles.txt line {}: expected 5 fields", n + 1);
        };
        let make_id = match makes.iter().find(|(_, name, _)| name == make) {
            Some((id, _, _)) => *id,
            None => {
                let id = i32::try_from(makes.len() + 1)?;
                makes.push((id, make.to_owned(), country.to_owned()));
                id
            }
        };
        let (from, to) = years
            .split_once('-')
            .with_context(|| format!("mx_vehicles.txt line {}: years", n + 1))?;
        let (from, to): (i16, i16) = (from.parse()?, to.parse()?);
        let model_id = i32::try_from(models.len() + 1)?;
        let mut ids = Vec::new();
        for year in from..=to {
            base += 1;
            for code in engines.split(';') {
                let next = i32::try_from(engine_ids.len() + 1)?;
                let engine_base_id = *engine_ids.entry(code).or_insert(next);
                let (liters_x10, cylinders, fuel, aspiration) = parse_engine(code)?;
                let id = i32::try_from(vehicles.len() + 1)?;
                vehicles.push(GenVehicle {
                    id,
                    year,
                    make_id,
                    model_id,
                    liters_x10,
                    cylinders,
                    fuel,
                    aspiration,
                    base_vehicle_id: base,
                    engine_base_id,
                });
                ids.push(id);
            }
        }
        models.push(GenModel {
            id: model_id,
            make_id,
            name: model.to_owned(),
            vehicles: ids,
        });
    }
    Ok(Fleet {
        makes,
        models,
        vehicles,
    })
}

/// How many parts the catalog holds.
///
/// # Errors
/// Database errors.
pub async fn part_count(db: &DatabaseConnection) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM catalog_parts",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

const TABLES: &[&str] = &[
    "catalog_changes",
    "search_sync_state",
    "catalog_interchange",
    "catalog_fitment",
    "catalog_parts",
    "catalog_categories",
    "catalog_brands",
    "catalog_vehicles",
    "catalog_models",
    "catalog_makes",
];

async fn clear(bulk: &mut Bulk, backend: DatabaseBackend) -> Result<()> {
    match backend {
        DatabaseBackend::Postgres => {
            bulk.execute(&format!(
                "TRUNCATE catalog_search, {} RESTART IDENTITY CASCADE",
                TABLES.join(", ")
            ))
            .await?;
        }
        _ => {
            bulk.execute("DELETE FROM catalog_parts_fts").await?;
            for t in TABLES {
                bulk.execute(&format!("DELETE FROM {t}")).await?;
            }
        }
    }
    Ok(())
}

/// Parts generated and written per batch: bounds memory whatever the count.
const BATCH: u64 = 10_000;

/// Generates and loads a catalog, calling `progress` with the parts written so far.
///
/// # Errors
/// A non-empty catalog without `replace`; database errors.
pub async fn generate(
    db: &DatabaseConnection,
    opts: GenOptions,
    progress: impl Fn(u64),
) -> Result<GenReport> {
    let backend = db.get_database_backend();
    if !opts.replace && part_count(db).await? > 0 {
        bail!("the catalog already has parts: pass --replace to generate a new one over it");
    }
    let fleet = fleet()?;
    let now = entities::now();
    let mut bulk = Bulk::begin(db).await?;
    if opts.replace {
        clear(&mut bulk, backend).await?;
    }
    let mut report = GenReport::default();
    bulk.write(
        "catalog_makes",
        &["id", "name", "country", "vcdb_id"],
        &fleet
            .makes
            .iter()
            .map(|(id, name, country)| {
                vec![
                    Cell::Int((*id).into()),
                    Cell::Text(name.clone()),
                    Cell::Text(country.clone()),
                    Cell::Int((*id).into()),
                ]
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    bulk.write(
        "catalog_models",
        &["id", "make_id", "name", "vcdb_id"],
        &fleet
            .models
            .iter()
            .map(|m| {
                vec![
                    Cell::Int(m.id.into()),
                    Cell::Int(m.make_id.into()),
                    Cell::Text(m.name.clone()),
                    Cell::Int(m.id.into()),
                ]
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    bulk.write(
        "catalog_vehicles",
        &[
            "id",
            "year",
            "make_id",
            "model_id",
            "liters_x10",
            "cylinders",
            "fuel",
            "aspiration",
            "base_vehicle_id",
            "engine_base_id",
        ],
        &fleet
            .vehicles
            .iter()
            .map(|v| {
                vec![
                    Cell::Int(v.id.into()),
                    Cell::Int(v.year.into()),
                    Cell::Int(v.make_id.into()),
                    Cell::Int(v.model_id.into()),
                    Cell::Int(v.liters_x10.into()),
                    Cell::Int(v.cylinders.into()),
                    Cell::Text(v.fuel.to_owned()),
                    Cell::Text(v.aspiration.to_owned()),
                    Cell::Int(v.base_vehicle_id.into()),
                    Cell::Int(v.engine_base_id.into()),
                ]
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    report.vehicles = fleet.vehicles.len() as u64;
    bulk.write(
        "catalog_brands",
        &["id", "name", "aaia_id"],
        &BRANDS
            .iter()
            .enumerate()
            .map(|(i, (name, aaia, _, _))| {
                vec![
                    Cell::Int(i as i64 + 1),
                    Cell::Text((*name).to_owned()),
                    Cell::Text((*aaia).to_owned()),
                ]
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    bulk.write(
        "catalog_categories",
        &["id", "name", "name_en", "pcdb_id"],
        &KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| {
                vec![
                    Cell::Int(i as i64 + 1),
                    Cell::Text(k.name.to_owned()),
                    Cell::Text(k.name_en.to_owned()),
                    Cell::Int(k.pcdb.into()),
                ]
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    if backend == DatabaseBackend::Postgres {
        bulk.execute(
            "CREATE TEMP TABLE catalog_search_stage (part_id BIGINT, text TEXT, numbers TEXT) \
             ON COMMIT DROP",
        )
        .await?;
    }

    let mut brand_seq = vec![0u64; BRANDS.len()];
    let mut next_id: i64 = 1;
    let mut done = 0;
    while done < opts.parts {
        let n = BATCH.min(opts.parts - done);
        let batch = make_batch(&fleet, opts.seed, &mut next_id, &mut brand_seq, n, now);
        report.parts += batch.parts.len() as u64;
        report.fitment += batch.fitment.len() as u64;
        report.interchange += batch.interchange.len() as u64;
        bulk.write(
            "catalog_parts",
            &[
                "id",
                "brand_id",
                "number",
                "number_norm",
                "name",
                "description",
                "category_id",
                "attributes",
                "sat_product_key",
                "sat_unit_key",
                "retail_price_cents",
                "created_at",
                "updated_at",
            ],
            &batch.parts,
        )
        .await?;
        bulk.write(
            "catalog_fitment",
            &[
                "part_id",
                "vehicle_id",
                "position",
                "qty",
                "qualifiers",
                "note",
            ],
            &batch.fitment,
        )
        .await?;
        bulk.write(
            "catalog_interchange",
            &["part_id", "kind", "brand", "number", "number_norm"],
            &batch.interchange,
        )
        .await?;
        let text: Vec<Vec<Cell>> = batch
            .docs
            .iter()
            .map(|d| {
                vec![
                    Cell::Int(d.id),
                    Cell::Text(d.search_text()),
                    Cell::Text(d.all_numbers()),
                ]
            })
            .collect();
        match backend {
            DatabaseBackend::Postgres => {
                bulk.write(
                    "catalog_search_stage",
                    &["part_id", "text", "numbers"],
                    &text,
                )
                .await?;
                bulk.execute(
                    "INSERT INTO catalog_search (part_id, doc, numbers) SELECT part_id, \
                     to_tsvector('spanish', unaccent(text)), numbers FROM catalog_search_stage",
                )
                .await?;
                bulk.execute("TRUNCATE catalog_search_stage").await?;
            }
            _ => {
                let rows: Vec<Vec<Cell>> = text
                    .into_iter()
                    .zip(&batch.docs)
                    .map(|(mut row, d)| {
                        row.push(Cell::Text(d.filter_tokens()));
                        row
                    })
                    .collect();
                bulk.write(
                    "catalog_parts_fts",
                    &["rowid", "text", "numbers", "filters"],
                    &rows,
                )
                .await?;
            }
        }
        done += n;
        progress(done);
    }
    if backend == DatabaseBackend::Postgres {
        // Ids were written explicitly; later inserts must continue after them.
        for t in [
            "catalog_makes",
            "catalog_models",
            "catalog_vehicles",
            "catalog_brands",
            "catalog_categories",
            "catalog_parts",
        ] {
            bulk.execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
                 GREATEST((SELECT max(id) FROM {t}), 1))"
            ))
            .await?;
        }
    }
    bulk.commit().await?;
    if backend == DatabaseBackend::Postgres {
        // Statistics for the planner, and the visibility map, without which reads of fitment by
        // vehicle cannot stay in the index (rows loaded by COPY are not all-visible yet).
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    if backend == DatabaseBackend::Sqlite {
        db.execute_unprepared("ANALYZE").await?;
        // The load went through the WAL; fold it into the database file now rather than leave
        // a WAL as big as the catalog until the next checkpoint.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(report)
}

/// Parts of the catalog a demo start loads.
pub const DEMO_PARTS: u64 = 2_000;

/// Loads a small catalog (seed 42) when the catalog has no parts, as `serve --demo` does;
/// `None` when there was one already.
///
/// # Errors
/// Database errors.
pub async fn ensure_demo_catalog(db: &DatabaseConnection) -> Result<Option<GenReport>> {
    if part_count(db).await? > 0 {
        return Ok(None);
    }
    let opts = GenOptions {
        parts: DEMO_PARTS,
        seed: 42,
        replace: false,
    };
    generate(db, opts, |_| {}).await.map(Some)
}

struct Batch {
    parts: Vec<Vec<Cell>>,
    fitment: Vec<Vec<Cell>>,
    interchange: Vec<Vec<Cell>>,
    docs: Vec<PartDoc>,
}

fn make_batch(
    fleet: &Fleet,
    seed: u64,
    next_id: &mut i64,
    brand_seq: &mut [u64],
    n: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Batch {
    let mut b = Batch {
        parts: Vec::with_capacity(n as usize),
        fitment: Vec::with_capacity(n as usize * 15),
        interchange: Vec::with_capacity(n as usize * 2),
        docs: Vec::with_capacity(n as usize),
    };
    for _ in 0..n {
        let id = *next_id;
        *next_id += 1;
        let mut r = Rng::new(seed, id as u64);
        let kind_ix = (r.next() % KINDS.len() as u64) as usize;
        let kind = &KINDS[kind_ix];
        let brand_ix = (r.next() % BRANDS.len() as u64) as usize;
        let (brand, _, prefix, sep) = BRANDS[brand_ix];
        brand_seq[brand_ix] += 1;
        let number = format!("{prefix}{sep}{}", 10_000 + brand_seq[brand_ix]);
        let position = *r.pick(kind.positions);
        let variant = *r.pick(kind.variants);
        let name = if position.is_empty() {
            format!("{} {variant}", kind.name)
        } else {
            format!("{} {} {variant}", kind.name, position.to_lowercase())
        };
        // Fitment: a run of 10–20 vehicles of one model (years and engines in order), topped up
        // from the next models of the file when the model is short.
        let model = r.pick(&fleet.models);
        let want = r.range(10, 20) as usize;
        let start = (r.next() % model.vehicles.len() as u64) as usize;
        let start = start.min(model.vehicles.len().saturating_sub(want));
        let mut vehicles: Vec<i32> = model.vehicles[start..].iter().take(want).copied().collect();
        let mut next_model = model.id as usize; // index of the following model
        while vehicles.len() < want && next_model < fleet.models.len() {
            let m = &fleet.models[next_model];
            vehicles.extend(m.vehicles.iter().take(want - vehicles.len()));
            next_model += 1;
        }
        let first = &fleet.vehicles[(vehicles[0] - 1) as usize];
        let own_years = vehicles
            .iter()
            .map(|&v| &fleet.vehicles[(v - 1) as usize])
            .filter(|v| v.model_id == model.id)
            .map(|v| v.year);
        let (from, to) = own_years.fold((i16::MAX, i16::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
        let make_name = &fleet.makes[(model.make_id - 1) as usize].1;
        let description = format!(
            "{name} {brand} para {make_name} {} {}-{}",
            model.name, from, to
        );
        let price_pesos = r.range(kind.price.0, kind.price.1);
        let cents = (price_pesos * 100 + [0, 50, 90][(r.next() % 3) as usize]) as i64;
        let qty: i64 = if kind.name == "Bujía" {
            i64::from(first.cylinders)
        } else {
            1
        };
        let abs = kind.sat == "25171700" && r.chance(25);
        for &v in &vehicles {
            b.fitment.push(vec![
                Cell::Int(id),
                Cell::Int(v.into()),
                Cell::Text(position.to_owned()),
                Cell::Int(qty),
                if abs {
                    Cell::Json(r#"[{"text":"con ABS"}]"#.to_owned())
                } else {
                    Cell::Null
                },
                Cell::Null,
            ]);
        }
        // Interchange: the maker's OE number, an equivalent of another brand, sometimes a
        // superseded number of the same brand.
        let mut numbers = Vec::new();
        let oe = format!(
            "{:05}-{}{:04}",
            r.range(10_000, 99_999),
            (b'A' + (r.next() % 26) as u8) as char,
            r.range(0, 9_999)
        );
        let mut xref = vec![("oe", make_name.clone(), oe)];
        let other =
            BRANDS[(brand_ix + 1 + (r.next() % (BRANDS.len() as u64 - 1)) as usize) % BRANDS.len()];
        xref.push((
            "aftermarket",
            other.0.to_owned(),
            format!("{}{}{}", other.2, other.3, r.range(10_000, 99_999)),
        ));
        if r.chance(4) {
            xref.push((
                "supersedes",
                brand.to_owned(),
                format!("{prefix}{sep}{}", 500_000 + brand_seq[brand_ix]),
            ));
        }
        for (kind_x, xbrand, xnum) in xref {
            let norm = normalize_number(&xnum);
            numbers.push(norm.clone());
            b.interchange.push(vec![
                Cell::Int(id),
                Cell::Text(kind_x.to_owned()),
                Cell::Text(xbrand),
                Cell::Text(xnum),
                Cell::Text(norm),
            ]);
        }
        let number_norm = normalize_number(&number);
        let attributes = format!(
            r#"{{"variante":"{variant}","garantia_meses":{}}}"#,
            [3, 6, 12, 24][(r.next() % 4) as usize]
        );
        b.parts.push(vec![
            Cell::Int(id),
            Cell::Int(brand_ix as i64 + 1),
            Cell::Text(number.clone()),
            Cell::Text(number_norm.clone()),
            Cell::Text(name.clone()),
            Cell::Text(description.clone()),
            Cell::Int(kind_ix as i64 + 1),
            Cell::Json(attributes),
            Cell::Text(kind.sat.to_owned()),
            Cell::Text(kind.unit.to_owned()),
            Cell::Int(cents),
            Cell::Ts(now),
            Cell::Ts(now),
        ]);
        b.docs.push(PartDoc {
            id,
            number,
            number_norm,
            name,
            description: Some(description),
            brand_id: brand_ix as i32 + 1,
            brand: brand.to_owned(),
            category_id: Some(kind_ix as i32 + 1),
            category: Some(kind.name.to_owned()),
            retail_price_cents: Some(cents),
            numbers,
            vehicle_ids: vehicles,
        });
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vehicle_file_parses_into_thousands_of_vehicles() {
        let f = fleet().unwrap();
        assert!(f.makes.len() > 20);
        assert!(f.models.len() > 100);
        assert!(f.vehicles.len() > 3_000, "{}", f.vehicles.len());
        assert!(f.models.iter().all(|m| !m.vehicles.is_empty()));
    }

    #[test]
    fn engines_read_litres_cylinders_fuel_and_aspiration() {
        assert_eq!(
            parse_engine("1.6L4").unwrap(),
            (16, 4, "gasolina", "natural")
        );
        assert_eq!(parse_engine("2.5L4TD").unwrap(), (25, 4, "diesel", "turbo"));
        assert_eq!(
            parse_engine("3.5V6").unwrap(),
            (35, 6, "gasolina", "natural")
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_parts_and_another_seed_does_not() {
        let f = fleet().unwrap();
        let now = entities::now();
        let gen_names = |seed| {
            let (mut id, mut seq) = (1, vec![0; BRANDS.len()]);
            make_batch(&f, seed, &mut id, &mut seq, 50, now)
                .docs
                .into_iter()
                .map(|d| (d.name, d.number, d.vehicle_ids))
                .collect::<Vec<_>>()
        };
        assert_eq!(gen_names(42), gen_names(42));
        assert_ne!(gen_names(42), gen_names(43));
        for (_, _, v) in gen_names(42) {
            assert!((10..=20).contains(&v.len()), "{}", v.len());
        }
    }
}
