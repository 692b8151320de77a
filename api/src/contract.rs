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
    if has(ParameterIn::Path) || has(ParameterIn::Query) || op.request_body.is_some() {
        out.push((
            "400",
            "`invalid_path` or `invalid_query`: a parameter does not parse; `malformed_json`, \
             `json_content_type_required`: the body is not JSON",
        ));
    }
    if op.request_body.is_some() {
        out.push(("413", "`payload_too_large`: the body is over the limit"));
    }
    if has(ParameterIn::Query) || op.request_body.is_some() {
        out.push((
            "422",
            "`validation_failed` (the field is named), `invalid_body` (the body does not fit the \
             schema) or `control_character`",
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
            if is_string(&o.schema_type)
                && o.format.is_none()
                && o.enum_values.is_none()
                && o.pattern.is_none()
            {
                o.pattern = Some(NO_CONTROL_CHARACTERS.to_owned());
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
