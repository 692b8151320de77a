//! The statuses every operation can answer because of the machinery it goes through, added to
//! the OpenAPI document so a client generated from it (and a property-based tester reading it)
//! expects them: a bearer token that is missing or bad (401), a path or query that does not
//! parse (400), a body that is not JSON, too large or of the wrong shape (400, 413, 422), a
//! refused `Idempotency-Key` (409, 422). An operation that documents one of these itself keeps
//! its own description.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, Ref, RefOr, ResponseBuilder, content::ContentBuilder};

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

/// Adds to every operation of `doc` the statuses of [`common_errors`] it does not document.
pub fn document(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            for (status, description) in common_errors(op) {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description));
            }
        }
    }
}
