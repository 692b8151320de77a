use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branches {
    Table,
    Id,
    Code,
    Name,
    IvaRateBp,
    Timezone,
    Address,
    PostalCode,
    Phone,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Warehouses {
    Table,
    Id,
    BranchId,
    Code,
    Name,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    Action,
    TargetType,
    TargetId,
    RequestId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Branches::Table)
                .col(uuid(Branches::Id).primary_key())
                .col(string_len_uniq(Branches::Code, 32))
                .col(string(Branches::Name))
                // Basis points (1600 = 16 %): integers are exact on SQLite and PostgreSQL alike.
                .col(integer(Branches::IvaRateBp))
                .col(string_len(Branches::Timezone, 64))
                .col(text_null(Branches::Address))
                .col(string_len_null(Branches::PostalCode, 5))
                .col(string_len_null(Branches::Phone, 32))
                .col(boolean(Branches::IsActive))
                .col(timestamp_with_time_zone(Branches::CreatedAt))
                .col(timestamp_with_time_zone(Branches::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Warehouses::Table)
                .col(uuid(Warehouses::Id).primary_key())
                .col(uuid(Warehouses::BranchId))
                .col(string_len_uniq(Warehouses::Code, 32))
                .col(string(Warehouses::Name))
                .col(boolean(Warehouses::IsActive))
                .col(timestamp_with_time_zone(Warehouses::CreatedAt))
                .col(timestamp_with_time_zone(Warehouses::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Warehouses::Table, Warehouses::BranchId)
                        .to(Branches::Table, Branches::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_warehouses_branch")
                .table(Warehouses::Table)
                .col(Warehouses::BranchId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(uuid_null(AuditLog::ActorUserId))
                .col(string_len(AuditLog::Action, 64))
                .col(string_len_null(AuditLog::TargetType, 32))
                .col(string_len_null(AuditLog::TargetId, 64))
                .col(string_len_null(AuditLog::RequestId, 64))
                .col(json_null(AuditLog::Details))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_tenant_audit_log_at")
                .table(AuditLog::Table)
                .col(AuditLog::At)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditLog::Table.into_iden(),
            Warehouses::Table.into_iden(),
            Branches::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
