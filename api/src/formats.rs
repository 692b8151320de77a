//! The text formats of request values, each a named schema of the OpenAPI document, so a client
//! generator and a property-based tester know exactly what the server takes: money and rates are
//! decimal strings (JSON numbers would round), with the same limits the rules in
//! `entities::rules::money` apply. A request field names one with
//! `#[schema(value_type = formats::Amount)]` (or `Option<formats::Amount>`).
//!
//! Each pattern accepts only what the server accepts in the range it states, so a value the
//! document allows is never refused for its format: a refusal is then about the business (a
//! payment above the balance), which the operation documents.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Declares a string format as a named schema.
macro_rules! text_format {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $example:expr, $description:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(entities::rules::money::MAX_DECIMAL_LEN))
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// The pattern of [`Amount`]: zeros may lead, and trail past the second decimal.
pub const AMOUNT: &str = "^0*([0-9]{1,10}(\\.[0-9]{1,2}0*)?|10000000000(\\.0+)?)$";

/// The pattern of [`PositiveAmount`].
pub const POSITIVE_AMOUNT: &str =
    "^(0*[1-9][0-9]{0,9}(\\.[0-9]{1,2}0*)?|0*10000000000(\\.0+)?|0+\\.(0[1-9]|[1-9][0-9]?)0*)$";

/// The pattern of [`Percent`].
pub const PERCENT: &str = "^0*(100(\\.0+)?|[0-9]{1,2}(\\.[0-9]{1,2}0*)?)$";

/// The pattern of [`ExchangeRate`]: above 0 and at most 1000 with six decimals at most; a
/// fraction alone is not all zeros (the first non-zero digit at each of the six places).
pub const EXCHANGE_RATE: &str = "^(0*[1-9][0-9]{0,2}(\\.[0-9]{1,6}0*)?|0*1000(\\.0+)?|0+\\.\
     ([1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|\
     00000[1-9])0*)$";

/// The pattern of [`IvaRate`].
pub const IVA_RATE: &str = "^0+\\.(16|08)0*$";

text_format!(
    /// An amount of money of zero or more, in whole units with at most two decimals.
    Amount,
    AMOUNT,
    "1500.00",
    "An amount in whole units, decimal string with at most 2 decimals (`\"1500.00\"`, `\"0\"`), \
     up to 10000000000."
);

text_format!(
    /// An amount of money above zero (a payment, a cash movement).
    PositiveAmount,
    POSITIVE_AMOUNT,
    "500.00",
    "An amount above zero in whole units, decimal string with at most 2 decimals \
     (`\"500.00\"`), up to 10000000000."
);

text_format!(
    /// A percentage from 0 to 100 with at most two decimals (a discount).
    Percent,
    PERCENT,
    "10",
    "A percentage from 0 to 100, decimal string with at most 2 decimals (`\"10\"`, `\"12.5\"`)."
);

text_format!(
    /// Pesos per unit of a foreign currency.
    ExchangeRate,
    EXCHANGE_RATE,
    "17.2345",
    "Pesos per US dollar, decimal string above 0 and at most 1000 with at most 6 decimals \
     (`\"17.2345\"`)."
);

text_format!(
    /// A branch's IVA rate: 16 %, or 8 % in the northern border region.
    IvaRate,
    IVA_RATE,
    "0.16",
    "A branch's IVA rate as a decimal string: `\"0.16\"`, or `\"0.08\"` in the border region."
);

/// A date (`2026-11-01`, the whole day in UTC) or an RFC 3339 instant, as report periods take.
#[derive(Debug, Clone, Copy)]
pub struct DateOrInstant;

impl utoipa::PartialSchema for DateOrInstant {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{KnownFormat, OneOfBuilder, SchemaFormat};
        let of = |f: KnownFormat| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(f)))
        };
        // Blank, as a form sends an empty field: no bound.
        let blank = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([""]));
        OneOfBuilder::new()
            .item(of(KnownFormat::Date))
            .item(of(KnownFormat::DateTime))
            .item(blank)
            .description(Some(
                "A date (`2026-11-01`: from its 00:00 UTC, or through its end as an upper bound), \
                 an RFC 3339 instant (`2026-11-01T06:00:00Z`), or blank for no bound.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for DateOrInstant {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DateOrInstant")
    }
}

#[cfg(test)]
mod tests {
    use entities::rules::money::{Money, Rate, decimal};
    use rust_decimal::Decimal;

    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).expect("pattern").is_match(s)
    }

    /// Every way of writing a number a generator might try, valid or not.
    const SAMPLES: [&str; 34] = [
        "0",
        "0.00",
        "1",
        "1.5",
        "0.01",
        "0.1",
        "9999999999.99",
        "0010.50",
        "1.234",
        "-1",
        "1e3",
        "",
        ".5",
        "1.",
        "10000000000",
        "0.001",
        "17.2345",
        "0.000001",
        "0.0000001",
        "1000",
        "1000.000001",
        "1000.0",
        "999.999999",
        "0.010203",
        "100",
        "100.01",
        "12.5",
        " 1",
        "1_0",
        "+1",
        "0000000000012.50",
        "12.5000",
        "100.000",
        "17.23450000",
    ];

    #[test]
    fn what_a_pattern_allows_the_money_rules_take() {
        for s in SAMPLES {
            let money = Money::parse("x", s);
            if matches(AMOUNT, s) {
                assert!(money.is_ok(), "amount {s:?}");
            }
            if matches(POSITIVE_AMOUNT, s) {
                assert!(money.as_ref().is_ok_and(|m| m.0 > 0), "positive {s:?}");
            }
            if matches(EXCHANGE_RATE, s) {
                let rate = decimal("x", s).and_then(|d| Rate::from_decimal("x", d));
                assert!(rate.is_ok(), "rate {s:?}");
            }
            if matches(PERCENT, s) {
                let d = decimal("x", s).expect("a number");
                assert!(d >= Decimal::ZERO && d <= Decimal::ONE_HUNDRED, "{s:?}");
                assert!(d.normalize().scale() <= 2, "{s:?}");
            }
        }
    }

    #[test]
    fn what_the_rules_refuse_no_pattern_allows() {
        for s in [
            "-1",
            "1.234",
            "",
            "1e3",
            " 1",
            "+1",
            "1_0",
            ".5",
            "1.",
            "10000000000.01",
        ] {
            assert!(!matches(AMOUNT, s), "amount {s:?}");
            assert!(Money::parse("x", s).is_err(), "amount {s:?}");
        }
        for s in ["0", "0.00", "0.001"] {
            assert!(!matches(POSITIVE_AMOUNT, s), "positive {s:?}");
        }
        for s in ["0", "0.0", "0.0000001", "1000.000001", "1001"] {
            assert!(!matches(EXCHANGE_RATE, s), "rate {s:?}");
        }
        for s in ["100.01", "101", "-1", "1.234"] {
            assert!(!matches(PERCENT, s), "percent {s:?}");
        }
        for s in ["0.16", "0.08", "0.1600", "00.080"] {
            assert!(matches(IVA_RATE, s), "iva {s:?}");
        }
        for s in ["0.15", "16", "0.8"] {
            assert!(!matches(IVA_RATE, s), "iva {s:?}");
        }
    }
}
