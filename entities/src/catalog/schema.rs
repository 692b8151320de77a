//! The sea-orm entities of the shared parts catalog (platform database).
//!
//! The full-text tables (`catalog_parts_fts` on SQLite, `catalog_search` on PostgreSQL) have no
//! entity: they are written and read with SQL of their own backend in [`super::index`] and
//! [`super::search`].

/// A vehicle maker, e.g. Nissan.
pub mod make {
    use sea_orm::entity::prelude::*;

    /// A maker.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "catalog_makes")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// Name as shown at the counter.
        pub name: String,
        /// ISO country of the maker, when known.
        pub country: Option<String>,
        /// ACES VCdb make id, when mapped.
        pub vcdb_id: Option<i32>,
    }

    /// Relations of a maker.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A model of a maker, e.g. Tsuru.
pub mod model {
    use sea_orm::entity::prelude::*;

    /// A model.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "catalog_models")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The maker.
        pub make_id: i32,
        /// Name.
        pub name: String,
        /// ACES VCdb model id, when mapped.
        pub vcdb_id: Option<i32>,
    }

    /// Relations of a model.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A vehicle: one year of a model with one engine (and optionally a submodel), the unit fitment
/// points at.
pub mod vehicle {
    use sea_orm::entity::prelude::*;

    /// A vehicle.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "catalog_vehicles")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// Model year.
        pub year: i16,
        /// The maker.
        pub make_id: i32,
        /// The model.
        pub model_id: i32,
        /// Submodel / trim, e.g. `GSI`.
        pub submodel: Option<String>,
        /// Displacement in tenths of a litre (16 = 1.6 L), exact on both backends.
        pub liters_x10: Option<i16>,
        /// Cylinders.
        pub cylinders: Option<i16>,
        /// `gasolina`, `diesel`, `hibrido`, `electrico`, `gas`.
        pub fuel: Option<String>,
        /// `natural`, `turbo`, `supercargado`.
        pub aspiration: Option<String>,
        /// ACES VCdb BaseVehicle id (year + make + model), when mapped.
        pub base_vehicle_id: Option<i32>,
        /// ACES VCdb EngineBase id, when mapped.
        pub engine_base_id: Option<i32>,
    }

    /// Relations of a vehicle.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A parts brand, e.g. Bosch.
pub mod brand {
    use sea_orm::entity::prelude::*;

    /// A brand.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "catalog_brands")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// Name.
        pub name: String,
        /// The Auto Care brand code (`BrandAAIAID`), when known.
        pub aaia_id: Option<String>,
    }

    /// Relations of a brand.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A part type / category, named in Spanish, e.g. "Balata delantera".
pub mod category {
    use sea_orm::entity::prelude::*;

    /// A category.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "catalog_categories")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// Spanish name.
        pub name: String,
        /// English name, when known.
        pub name_en: Option<String>,
        /// The ACES PCdb part type id, for imports.
        pub pcdb_id: Option<i32>,
    }

    /// Relations of a category.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A part: one brand's part number.
pub mod part {
    use sea_orm::entity::prelude::*;

    /// A part.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_parts")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The brand.
        pub brand_id: i32,
        /// The part number as the brand prints it.
        pub number: String,
        /// The number without case, spaces or punctuation, for search.
        pub number_norm: String,
        /// Short name, Spanish.
        pub name: String,
        /// Longer description.
        pub description: Option<String>,
        /// Part type.
        pub category_id: Option<i32>,
        /// Attributes (`{"material": "cerámica", …}`).
        pub attributes: Option<Json>,
        /// SAT `ClaveProdServ`.
        pub sat_product_key: Option<String>,
        /// SAT `ClaveUnidad`.
        pub sat_unit_key: Option<String>,
        /// Reference retail price in MXN centavos.
        pub retail_price_cents: Option<i64>,
        /// Image references (keys or URLs).
        pub image_refs: Option<Json>,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// Relations of a part.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Fitment: a part fits a vehicle, in a position, in a quantity.
pub mod fitment {
    use sea_orm::entity::prelude::*;

    /// A fitment row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_fitment")]
    pub struct Model {
        /// The part.
        #[sea_orm(primary_key, auto_increment = false)]
        pub part_id: i64,
        /// The vehicle.
        #[sea_orm(primary_key, auto_increment = false)]
        pub vehicle_id: i32,
        /// Position (`delantera`, `trasera izquierda`…), empty when none.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: String,
        /// Units per vehicle.
        pub qty: i16,
        /// ACES qualifiers (`[{"id": 123, "text": "con ABS"}]`).
        pub qualifiers: Option<Json>,
        /// Free-text note.
        pub note: Option<String>,
    }

    /// Relations of a fitment row.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Another number a part is known by: an OE or aftermarket equivalent, or a supersession.
pub mod interchange {
    use sea_orm::entity::prelude::*;

    /// An interchange row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_interchange")]
    pub struct Model {
        /// The part.
        #[sea_orm(primary_key, auto_increment = false)]
        pub part_id: i64,
        /// `oe`, `aftermarket`, `supersedes` (this part replaces that number) or `superseded_by`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        /// Normalised number.
        #[sea_orm(primary_key, auto_increment = false)]
        pub number_norm: String,
        /// The brand of the other number.
        pub brand: String,
        /// The other number as printed.
        pub number: String,
    }

    /// Relations of an interchange row.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
