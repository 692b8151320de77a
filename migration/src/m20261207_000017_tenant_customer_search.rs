//! Customer search that ignores accents and case on both databases: a folded copy of the name and
//! RFC (`"José Núñez"` → `"jose nunez"`), filled here for the customers there are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Lower-case without Spanish accents. A frozen copy of the rule the application applies when it
/// writes a customer (`entities::catalog::text::fold`): a migration never imports the entities.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("customers"))
                .add_column(text_null(a("search_text")))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();
        let select = Query::select()
            .columns([a("id"), a("name"), a("rfc")])
            .from(a("customers"))
            .to_owned();
        let rows = db.query_all_raw(backend.build(&select)).await?;
        for r in rows {
            let id: sea_orm_migration::sea_orm::prelude::Uuid = r.try_get("", "id")?;
            let name: String = r.try_get("", "name")?;
            let rfc: Option<String> = r.try_get("", "rfc")?;
            let folded = fold(&format!("{name} {}", rfc.unwrap_or_default()));
            let update = Query::update()
                .table(a("customers"))
                .value(a("search_text"), folded)
                .and_where(Expr::col(a("id")).eq(id))
                .to_owned();
            db.execute_raw(backend.build(&update)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("customers"))
                .drop_column(a("search_text"))
                .to_owned(),
        )
        .await
    }
}
