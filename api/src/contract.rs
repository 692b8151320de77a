//! The statuses every operation can answer because of the machinery it goes through, added to
//! the OpenAPI document so a client generated from it (and a property-based tester reading it)
//! expects them: a bearer token that is missing or bad (401), a path or query that does not
//! parse (400), a body that is not JSON, too large or of the wrong shape (400, 413, 422), a
//! refused `Idempotency-Key` (409, 422). An operation that documents one of these itself keeps
//! its own description.
//!
//! It also states two rules every request body follows (`crate::extract`): text carries no
//! control character but a newline, a carriage return or a tab, and a field the schema does not
//! name is refused. Both are written into the schemas only reachable from request bodies, so a
//! response schema never claims more than it promises.

use std::collections::BTreeSet;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, ResponseBuilder, content::ContentBuilder};

/// Text without control characters (Unicode `Cc`) other than `\n`, `\r` and `\t`: what
/// `crate::extract::refuse_control_characters` lets through.
pub const NO_CONTROL_CHARACTERS: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// Text with a character other than white space, and no control character but `\n`, `\r` and
/// `\t`: what the server takes where it trims a value and refuses it blank (a name, a code, a
/// reason). Written for a schema that says `minLength` 1 or the bare pattern `\S`.
pub const NON_BLANK: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*\
     [^\\s\\u0000-\\u001F\\u007F-\\u009F]\
     [^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// A response carrying the error envelope, described by `description`.
pub(crate) fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The statuses the shared machinery can answer for `op`, each with its description.
fn common_errors(op: &Operation) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| {
        params
            .iter()
            .any(|p| std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place))
    };
    let idempotent = params.iter().any(|p| p.name == "Idempotency-Key");
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        out.push((
            "401",
            "`unauthorized`: no bearer token, or one that is expired, forged or revoked",
        ));
    }
    if has(ParameterIn::Path) || op.request_body.is_some() {
        out.push((
            "400",
            "`invalid_path`: a path parameter does not parse; `malformed_json`, \
             `json_content_type_required`: the body is not JSON",
        ));
    }
    if op.request_body.is_some() {
        out.push(("413", "`payload_too_large`: the body is over the limit"));
        out.push((
            "404",
            "`…_not_found`: something the body names (an id, a maker's name, a link) does not \
             exist; `field` names it",
        ));
    }
    if has(ParameterIn::Query) || op.request_body.is_some() {
        out.push((
            "422",
            "`validation_failed`, `invalid_query` or `invalid_body` (a value out of range, or \
             a field or parameter missing, unknown or of the wrong type) or \
             `control_character`; `field` names it",
        ));
    }
    if idempotent {
        out.push((
            "409",
            "`idempotency_key_in_use`: a request with this Idempotency-Key is still running",
        ));
    }
    out
}

/// Adds to every operation of `doc` the statuses of [`common_errors`] it does not document, and
/// the rules of request bodies to the schemas only requests use.
pub fn document(doc: &mut OpenApi) {
    document_statuses(doc);
    document_request_rules(doc);
    document_idempotency_keys(doc);
    document_cross_field_rules(doc);
}

/// An RFC of a company (3 letters) or a person (4), as `entities::rules::rfc::Rfc` reads it.
fn rfc_pattern(letters: usize) -> String {
    format!(
        "^[A-Za-z&Ññ]{{{letters}}}[0-9]{{2}}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[A-Za-z0-9]{{3}}$"
    )
}

/// The tax regime keys that apply to a person or to a company, as an anchored alternation.
fn regimes_pattern(person: bool) -> String {
    let keys: Vec<&str> = entities::rules::cfdi::TAX_REGIMES
        .iter()
        .filter(|r| if person { r.person } else { r.company })
        .map(|r| r.key)
        .collect();
    format!("^({})$", keys.join("|"))
}

fn string_with(pattern: String) -> Schema {
    Schema::Object(
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .build(),
    )
}

/// `{"properties": {name: schema, ...}}` without a type, for an alternative of `anyOf`.
fn properties(of: Vec<(&str, Schema)>, required: &[&str]) -> Schema {
    let mut o = utoipa::openapi::schema::Object::new();
    o.schema_type = SchemaType::AnyValue;
    for (name, schema) in of {
        o.properties.insert(name.to_owned(), RefOr::T(schema));
    }
    o.required = required.iter().map(|r| (*r).to_owned()).collect();
    Schema::Object(o)
}

/// A value that is absent, `null` or blank: what an optional text field of a customer treats as
/// not given.
fn not_given() -> Schema {
    let mut o = utoipa::openapi::schema::Object::new();
    o.schema_type = SchemaType::AnyValue;
    o.enum_values = Some(vec![serde_json::Value::Null, serde_json::json!("")]);
    Schema::Object(o)
}

/// The RFC and tax regime fit each other (a company's RFC takes a company's
/// regime, a person's a person's), or, when `optional`, one of them is not given.
fn fiscal_pair(rfc: &str, regime: &str, optional: bool) -> Vec<Schema> {
    let mut alternatives = Vec::new();
    if optional {
        alternatives.push(properties(vec![(rfc, not_given())], &[]));
        alternatives.push(properties(vec![(regime, not_given())], &[]));
    }
    for person in [false, true] {
        let letters = if person { 4 } else { 3 };
        alternatives.push(properties(
            vec![
                (rfc, string_with(rfc_pattern(letters))),
                (regime, string_with(regimes_pattern(person))),
            ],
            &[],
        ));
    }
    alternatives
}

/// At least one of `fields` is given and not `null`: each with the one type it has then, and for
/// text a character that is not white space (blank text counts as not given).
fn one_of_given(fields: &[(&str, Type)]) -> Vec<Schema> {
    fields
        .iter()
        .map(|(f, t)| {
            let mut given = utoipa::openapi::schema::ObjectBuilder::new().schema_type(t.clone());
            if *t == Type::String {
                given = given.pattern(Some("\\S"));
            }
            properties(vec![(f, Schema::Object(given.build()))], &[f])
        })
        .collect()
}

/// `{"not": {"required": [field]}}`: the field is absent.
fn absent(field: &str) -> Schema {
    let mut o = utoipa::openapi::schema::Object::new();
    o.schema_type = SchemaType::AnyValue;
    refuse(&mut o, serde_json::json!({"required": [field]}));
    Schema::Object(o)
}

/// Adds `"not": schema` to `o`: utoipa has no `not`; the document is JSON Schema 2020-12, which
/// has.
fn refuse(o: &mut utoipa::openapi::schema::Object, schema: serde_json::Value) {
    let mut ext = o.extensions.take().unwrap_or_default();
    ext.insert("not".to_owned(), schema);
    o.extensions = Some(ext);
}

fn of_type(t: Type) -> Schema {
    Schema::Object(
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(t)
            .build(),
    )
}

/// A checkout sells the cart (`from_cart: true`, nothing else saying what) or the lines it sends
/// for a branch.
fn checkout_shapes() -> Vec<Schema> {
    let flag = |v: bool| {
        let mut o = utoipa::openapi::schema::Object::new();
        o.schema_type = SchemaType::AnyValue;
        o.enum_values = Some(vec![serde_json::json!(v)]);
        Schema::Object(o)
    };
    vec![
        properties(
            vec![
                ("from_cart", flag(true)),
                ("lines", of_type(Type::Null)),
                ("branch_id", of_type(Type::Null)),
                ("customer_id", of_type(Type::Null)),
            ],
            &["from_cart"],
        ),
        properties(
            vec![
                ("from_cart", flag(false)),
                ("branch_id", of_type(Type::String)),
                ("lines", of_type(Type::Array)),
            ],
            &["branch_id", "lines"],
        ),
    ]
}

/// A payment in dollars is cash; any means pays in pesos but `usd_cash`.
fn payment_currencies() -> Vec<Schema> {
    let one_of = |values: &[&str]| {
        let mut o = utoipa::openapi::schema::Object::new();
        o.schema_type = SchemaType::AnyValue;
        o.enum_values = Some(values.iter().map(|v| serde_json::json!(v)).collect());
        Schema::Object(o)
    };
    vec![
        properties(vec![("currency", of_type(Type::Null))], &[]),
        properties(
            vec![
                ("currency", one_of(&["MXN"])),
                (
                    "method",
                    one_of(&["cash", "card", "transfer", "credit", "store_credit"]),
                ),
            ],
            &[],
        ),
        properties(
            vec![
                ("currency", one_of(&["USD"])),
                ("method", one_of(&["cash", "usd_cash"])),
            ],
            &[],
        ),
    ]
}

/// A change to a vehicle leaves it a plate or a VIN: it does not clear both.
fn keeps_plate_or_vin() -> Vec<Schema> {
    let mut out = vec![absent("plate"), absent("vin")];
    out.extend(one_of_given(&[
        ("plate", Type::String),
        ("vin", Type::String),
    ]));
    out
}

/// Rules between fields of one request that the server applies, written as `anyOf` beside the
/// request's object schema (`allOf`), so a request the document allows is one the server takes:
/// an item needs a name or a catalog part to take it from; a part type's SAT defaults name at
/// least one key; a vehicle has a plate or a VIN; a checkout sells the cart or its own lines; an
/// RFC and a tax regime stated together fit each other (and the business's own RFC is not a
/// generic one). Two rules stay outside what JSON Schema can say, since it cannot compare two
/// values: a transfer's two warehouses differ, and an item's `max_qty` is not below `min_qty`.
fn document_cross_field_rules(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    // The business's own RFC is not a generic one (a property's rule, before the request's
    // object is wrapped).
    if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut("FiscalRequest")
        && let Some(RefOr::T(Schema::Object(rfc))) = o.properties.get_mut("issuer_rfc")
    {
        refuse(
            rfc,
            serde_json::json!({"enum": entities::rules::rfc::GENERIC_RFCS}),
        );
    }
    let rules: Vec<(&str, Vec<Schema>)> = vec![
        (
            "CreateItemRequest",
            one_of_given(&[("name", Type::String), ("catalog_part_id", Type::Integer)]),
        ),
        (
            "RecordLostSaleRequest",
            one_of_given(&[
                ("item_id", Type::String),
                ("catalog_part_id", Type::Integer),
            ]),
        ),
        (
            "CategoryKeysRequest",
            one_of_given(&[("product_key", Type::String), ("unit_key", Type::String)]),
        ),
        (
            "CreateVehicleRequest",
            one_of_given(&[("plate", Type::String), ("vin", Type::String)]),
        ),
        ("CheckoutRequest", checkout_shapes()),
        ("PaymentRequest", payment_currencies()),
        ("UpdateVehicleRequest", keeps_plate_or_vin()),
        (
            "FiscalRequest",
            fiscal_pair("issuer_rfc", "tax_regime", false),
        ),
        (
            "CreateCustomerRequest",
            fiscal_pair("rfc", "tax_regime", true),
        ),
        (
            "UpdateCustomerRequest",
            fiscal_pair("rfc", "tax_regime", true),
        ),
    ];
    for (name, alternatives) in rules {
        let Some(RefOr::T(schema)) = components.schemas.get_mut(name) else {
            continue;
        };
        let any = alternatives
            .into_iter()
            .fold(AnyOfBuilder::new(), AnyOfBuilder::item)
            .build();
        let whole = AllOfBuilder::new()
            .item(schema.clone())
            .item(Schema::AnyOf(any))
            .build();
        *schema = Schema::AllOf(whole);
    }
}

/// The rule `idempotency::write_once` applies to the `Idempotency-Key` header, in every operation
/// that takes one: 1 to 255 visible ASCII characters.
fn document_idempotency_keys(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for op in operations_mut(doc) {
        for p in op.parameters.iter_mut().flatten() {
            if p.name.eq_ignore_ascii_case("idempotency-key") {
                p.schema = Some(RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]+$"))
                        .build(),
                )));
            }
        }
    }
}

fn document_statuses(doc: &mut OpenApi) {
    for op in operations_mut(doc) {
        for (status, description) in common_errors(op) {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| error_response(description));
        }
    }
}

fn operations_mut(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

fn operations(doc: &OpenApi) -> impl Iterator<Item = &Operation> {
    doc.paths.paths.values().flat_map(|item| {
        [
            item.get.as_ref(),
            item.post.as_ref(),
            item.put.as_ref(),
            item.patch.as_ref(),
            item.delete.as_ref(),
        ]
        .into_iter()
        .flatten()
    })
}

/// The component names `schema` refers to, directly or through nested schemas.
fn refs_in(schema: &RefOr<Schema>, out: &mut BTreeSet<String>) {
    match schema {
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.rsplit('/').next() {
                out.insert(name.to_owned());
            }
        }
        RefOr::T(s) => refs_in_schema(s, out),
    }
}

fn refs_in_schema(s: &Schema, out: &mut BTreeSet<String>) {
    match s {
        Schema::Object(o) => {
            for p in o.properties.values() {
                refs_in(p, out);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &a.items {
                refs_in(items, out);
            }
        }
        Schema::OneOf(o) => o.items.iter().for_each(|i| refs_in(i, out)),
        Schema::AllOf(a) => a.items.iter().for_each(|i| refs_in(i, out)),
        Schema::AnyOf(a) => a.items.iter().for_each(|i| refs_in(i, out)),
        _ => {}
    }
}

/// Every component reachable from `roots`.
fn closure(doc: &OpenApi, mut todo: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let schemas = doc.components.as_ref().map(|c| &c.schemas);
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(s) = schemas.and_then(|s| s.get(&name)) {
            let mut next = BTreeSet::new();
            refs_in(s, &mut next);
            todo.extend(next);
        }
    }
    seen
}

/// Whether `t` is a string type (`string`, or `[string, null]`).
fn is_string(t: &SchemaType) -> bool {
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        _ => false,
    }
}

/// Writes the request rules into `s` and the schemas nested in it (not into other components).
fn constrain(s: &mut Schema) {
    match s {
        Schema::Object(o) => {
            if is_string(&o.schema_type) && o.format.is_none() && o.enum_values.is_none() {
                let non_blank = o.min_length == Some(1);
                match o.pattern.as_deref() {
                    None if non_blank => o.pattern = Some(NON_BLANK.to_owned()),
                    None => o.pattern = Some(NO_CONTROL_CHARACTERS.to_owned()),
                    Some("\\S") => o.pattern = Some(NON_BLANK.to_owned()),
                    Some(_) => {}
                }
            }
            if !o.properties.is_empty() && o.additional_properties.is_none() {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            for p in o.properties.values_mut() {
                if let RefOr::T(inner) = p {
                    constrain(inner);
                }
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items
                && let RefOr::T(inner) = items.as_mut()
            {
                constrain(inner);
            }
        }
        Schema::OneOf(o) => o.items.iter_mut().for_each(|i| {
            if let RefOr::T(inner) = i {
                constrain(inner);
            }
        }),
        _ => {}
    }
}

/// The request rules, in the components only request bodies reach.
fn document_request_rules(doc: &mut OpenApi) {
    let mut requests = BTreeSet::new();
    let mut responses = BTreeSet::new();
    for op in operations(doc) {
        if let Some(body) = &op.request_body {
            for c in body.content.values() {
                if let Some(s) = &c.schema {
                    refs_in(s, &mut requests);
                }
            }
        }
        for r in op.responses.responses.values() {
            if let RefOr::T(r) = r {
                for c in r.content.values() {
                    if let Some(s) = &c.schema {
                        refs_in(s, &mut responses);
                    }
                }
            }
        }
    }
    let requests = closure(doc, requests.into_iter().collect());
    let responses = closure(doc, responses.into_iter().collect());
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in requests.difference(&responses) {
        if let Some(RefOr::T(s)) = components.schemas.get_mut(name) {
            constrain(s);
        }
    }
}
