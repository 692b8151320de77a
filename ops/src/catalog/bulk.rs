//! Bulk writes into the catalog: `COPY … FROM STDIN` on PostgreSQL, multi-row `INSERT`s on
//! SQLite, both inside one transaction, so a load is all or nothing.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement, Value,
};

/// One value of a bulk row.
#[derive(Debug, Clone)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A JSON document (as text).
    Json(String),
    /// A timestamp.
    Ts(DateTime<Utc>),
}

impl Cell {
    fn to_value(&self) -> Value {
        match self {
            Cell::Null => Value::String(None),
            Cell::Int(i) => Value::BigInt(Some(*i)),
            Cell::Text(s) => Value::String(Some(s.clone())),
            Cell::Json(s) => serde_json::from_str::<serde_json::Value>(s)
                .map(|j| Value::Json(Some(Box::new(j))))
                .unwrap_or(Value::String(Some(s.clone()))),
            Cell::Ts(t) => Value::ChronoDateTimeUtc(Some(*t)),
        }
    }

    /// Appends the cell in PostgreSQL's COPY text format.
    fn push_copy(&self, out: &mut String) {
        match self {
            Cell::Null => out.push_str("\\N"),
            Cell::Int(i) => out.push_str(&i.to_string()),
            Cell::Text(s) | Cell::Json(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            Cell::Ts(t) => out.push_str(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()),
        }
    }
}

/// A transaction that takes rows in bulk.
pub enum Bulk {
    /// PostgreSQL through sqlx, for COPY.
    Pg(sqlx::Transaction<'static, Postgres>),
    /// SQLite through sea-orm.
    Sqlite(DatabaseTransaction),
}

impl Bulk {
    /// Opens a bulk transaction on the platform database.
    ///
    /// # Errors
    /// When the database cannot start a transaction.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self> {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => Ok(Self::Pg(
                db.get_postgres_connection_pool()
                    .begin()
                    .await
                    .context("starting the load transaction")?,
            )),
            _ => Ok(Self::Sqlite(entities::db::begin_write(db).await?)),
        }
    }

    /// Writes rows into `table (columns)`.
    ///
    /// # Errors
    /// Database errors, with the table named.
    pub async fn write(&mut self, table: &str, columns: &[&str], rows: &[Vec<Cell>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Bulk::Pg(tx) => {
                let mut data = String::with_capacity(rows.len() * 64);
                for row in rows {
                    for (i, cell) in row.iter().enumerate() {
                        if i > 0 {
                            data.push('\t');
                        }
                        cell.push_copy(&mut data);
                    }
                    data.push('\n');
                }
                let mut copy = tx
                    .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(",")))
                    .await
                    .with_context(|| format!("COPY into {table}"))?;
                copy.send(data.as_bytes())
                    .await
                    .with_context(|| format!("COPY into {table}"))?;
                copy.finish()
                    .await
                    .with_context(|| format!("COPY into {table}"))?;
            }
            Bulk::Sqlite(tx) => {
                // SQLite allows 32,766 bound values per statement.
                let per = (30_000 / columns.len()).max(1);
                let row_ph = format!("({})", vec!["?"; columns.len()].join(","));
                for chunk in rows.chunks(per) {
                    let sql = format!(
                        "INSERT INTO {table} ({}) VALUES {}",
                        columns.join(","),
                        vec![row_ph.as_str(); chunk.len()].join(",")
                    );
                    let values: Vec<Value> = chunk.iter().flatten().map(Cell::to_value).collect();
                    tx.execute_raw(Statement::from_sql_and_values(
                        DatabaseBackend::Sqlite,
                        sql,
                        values,
                    ))
                    .await
                    .with_context(|| format!("inserting into {table}"))?;
                }
            }
        }
        Ok(())
    }

    /// Runs one statement without values.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        match self {
            Bulk::Pg(tx) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **tx)
                    .await
                    .with_context(|| sql.to_owned())?;
            }
            Bulk::Sqlite(tx) => {
                tx.execute_unprepared(sql)
                    .await
                    .with_context(|| sql.to_owned())?;
            }
        }
        Ok(())
    }

    /// Commits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn commit(self) -> Result<()> {
        match self {
            Bulk::Pg(tx) => tx.commit().await?,
            Bulk::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
