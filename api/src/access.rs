//! Who may call each endpoint: one table, read by the extractor that authenticates every
//! business request (so a role is refused before the body is even read), by a test that tries
//! every endpoint with every role, and by `docs/roles.md`, which a test keeps equal to it.
//!
//! Checks finer than an endpoint stay with their rule: a line's discount by role
//! (`Role::max_discount_bp`), a customer's credit terms (managers), a branch-scoped user's
//! branches.

use axum::http::Method;
use entities::Role;

/// The roles an endpoint admits, each group containing the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Any member of the business, the viewer included: reads.
    Members,
    /// Every role that records day-to-day work (all but viewer): customers, their vehicles,
    /// asking for a transfer.
    Recorders,
    /// The roles that sell and invoice: owner, admin, manager, cashier (a mechanic works service
    /// orders, and does not sell, invoice, take invoice payments or send quotes).
    Sellers,
    /// Owner, admin and manager: stock corrections, transfers, returns, prices, cancellations.
    Managers,
    /// Owner and admin: branches, fiscal settings, the exchange rate.
    Admins,
}

impl Who {
    /// Whether `role` is admitted.
    #[must_use]
    pub const fn admits(self, role: Role) -> bool {
        match self {
            Who::Members => true,
            Who::Recorders => role.can_record(),
            Who::Sellers => role.is_manager() || matches!(role, Role::Cashier),
            Who::Managers => role.is_manager(),
            Who::Admins => role.is_admin(),
        }
    }

    /// How `docs/roles.md` names the group.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Who::Members => "every role",
            Who::Recorders => "all but viewer",
            Who::Sellers => "owner, admin, manager, cashier",
            Who::Managers => "owner, admin, manager",
            Who::Admins => "owner, admin",
        }
    }
}

/// One endpoint's rule: its method, its path as the router writes it, who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// HTTP method.
    pub method: &'static str,
    /// The route, with `{param}` placeholders.
    pub path: &'static str,
    /// Who may call it.
    pub who: Who,
}

const fn rule(method: &'static str, path: &'static str, who: Who) -> Rule {
    Rule { method, path, who }
}

/// Every endpoint a business user calls with a bearer token.
pub const RULES: &[Rule] = &[
    rule("GET", "/pos/api/auth/me", Who::Members),
    rule("PUT", "/pos/api/auth/pin", Who::Members),
    rule("POST", "/pos/api/auth/override", Who::Sellers),
    rule("GET", "/pos/api/users", Who::Admins),
    rule("POST", "/pos/api/users", Who::Admins),
    rule("GET", "/pos/api/users/{id}", Who::Admins),
    rule("PATCH", "/pos/api/users/{id}", Who::Admins),
    rule("POST", "/pos/api/users/{id}/reset-password", Who::Admins),
    rule("GET", "/pos/api/branches", Who::Members),
    rule("POST", "/pos/api/branches", Who::Admins),
    rule("GET", "/pos/api/branches/{id}", Who::Members),
    rule("PATCH", "/pos/api/branches/{id}", Who::Admins),
    rule("DELETE", "/pos/api/branches/{id}", Who::Admins),
    rule("GET", "/pos/api/branches/{id}/warehouses", Who::Members),
    rule("POST", "/pos/api/branches/{id}/warehouses", Who::Admins),
    rule(
        "GET",
        "/pos/api/branches/{id}/warehouses/{warehouse_id}",
        Who::Members,
    ),
    rule(
        "PATCH",
        "/pos/api/branches/{id}/warehouses/{warehouse_id}",
        Who::Admins,
    ),
    rule(
        "DELETE",
        "/pos/api/branches/{id}/warehouses/{warehouse_id}",
        Who::Admins,
    ),
    rule("GET", "/pos/api/cart", Who::Sellers),
    rule("PUT", "/pos/api/cart", Who::Sellers),
    rule("DELETE", "/pos/api/cart", Who::Sellers),
    rule("POST", "/pos/api/cart/lines", Who::Sellers),
    rule("PATCH", "/pos/api/cart/lines/{id}", Who::Sellers),
    rule("DELETE", "/pos/api/cart/lines/{id}", Who::Sellers),
    rule("GET", "/pos/api/catalog/parts/{id}", Who::Members),
    rule("GET", "/pos/api/catalog/categories", Who::Members),
    rule("GET", "/pos/api/catalog/brands", Who::Members),
    rule("GET", "/pos/api/catalog/search", Who::Members),
    rule("GET", "/pos/api/customers", Who::Members),
    rule("POST", "/pos/api/customers", Who::Recorders),
    rule("GET", "/pos/api/customers/{id}", Who::Members),
    rule("PATCH", "/pos/api/customers/{id}", Who::Recorders),
    rule("GET", "/pos/api/customers/{id}/savings", Who::Members),
    rule("GET", "/pos/api/customers/{id}/account", Who::Members),
    rule(
        "GET",
        "/pos/api/customers/{id}/account/entries",
        Who::Members,
    ),
    rule("POST", "/pos/api/customers/{id}/payments", Who::Sellers),
    rule("GET", "/pos/api/customers/{id}/tags", Who::Members),
    rule("PUT", "/pos/api/customers/{id}/tags", Who::Recorders),
    rule("GET", "/pos/api/customers/{id}/activities", Who::Members),
    rule("POST", "/pos/api/customers/{id}/activities", Who::Recorders),
    rule(
        "PATCH",
        "/pos/api/customers/{id}/activities/{activity_id}",
        Who::Recorders,
    ),
    rule("GET", "/pos/api/customers/{id}/timeline", Who::Members),
    rule("GET", "/pos/api/customers/{id}/loyalty", Who::Members),
    rule(
        "GET",
        "/pos/api/customers/{id}/loyalty/entries",
        Who::Members,
    ),
    rule("GET", "/pos/api/customers/{id}/analytics", Who::Members),
    rule("GET", "/pos/api/crm/analytics", Who::Managers),
    rule("GET", "/pos/api/crm/tags", Who::Members),
    rule(
        "GET",
        "/pos/api/customers/{id}/credit-reviews",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/customers/{id}/credit-reviews",
        Who::Managers,
    ),
    rule("POST", "/pos/api/credit-reviews/{id}/accept", Who::Managers),
    rule(
        "POST",
        "/pos/api/credit-reviews/{id}/dismiss",
        Who::Managers,
    ),
    rule("GET", "/pos/api/customers/{id}/referral", Who::Members),
    rule("POST", "/pos/api/customers/{id}/referral", Who::Recorders),
    rule("GET", "/pos/api/crm/referrals", Who::Managers),
    rule("GET", "/pos/api/crm/referrals/report", Who::Managers),
    rule("GET", "/pos/api/referrals/settings", Who::Members),
    rule("PUT", "/pos/api/referrals/settings", Who::Admins),
    rule("GET", "/pos/api/crm/tasks", Who::Members),
    rule("GET", "/pos/api/crm/segments", Who::Managers),
    rule("POST", "/pos/api/crm/segments", Who::Managers),
    rule("POST", "/pos/api/crm/segments/preview", Who::Managers),
    rule("GET", "/pos/api/crm/segments/{id}", Who::Managers),
    rule("PATCH", "/pos/api/crm/segments/{id}", Who::Managers),
    rule("DELETE", "/pos/api/crm/segments/{id}", Who::Managers),
    rule("GET", "/pos/api/crm/segments/{id}/customers", Who::Managers),
    rule("GET", "/pos/api/notifications", Who::Members),
    rule("POST", "/pos/api/notifications/{id}/read", Who::Members),
    rule("POST", "/pos/api/notifications/read-all", Who::Members),
    rule("GET", "/pos/api/notifications/stream", Who::Members),
    rule("GET", "/pos/api/notifications/log", Who::Managers),
    rule("GET", "/pos/api/notifications/log/{id}", Who::Managers),
    rule("POST", "/pos/api/notifications/resend-parked", Who::Admins),
    rule("GET", "/pos/api/notification-rules", Who::Managers),
    rule("PUT", "/pos/api/notification-rules/{event}", Who::Admins),
    rule("GET", "/pos/api/notification-settings", Who::Managers),
    rule("PUT", "/pos/api/notification-settings", Who::Admins),
    rule("GET", "/pos/api/whatsapp/settings", Who::Managers),
    rule("PUT", "/pos/api/whatsapp/settings", Who::Admins),
    rule("GET", "/pos/api/notification-templates", Who::Managers),
    rule(
        "GET",
        "/pos/api/notification-templates/{event}/{channel}",
        Who::Managers,
    ),
    rule(
        "PUT",
        "/pos/api/notification-templates/{event}/{channel}",
        Who::Admins,
    ),
    rule(
        "DELETE",
        "/pos/api/notification-templates/{event}/{channel}",
        Who::Admins,
    ),
    rule(
        "GET",
        "/pos/api/notification-templates/{event}/{channel}/versions",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/notification-templates/preview",
        Who::Managers,
    ),
    rule(
        "GET",
        "/pos/api/customers/{id}/contact-preferences",
        Who::Members,
    ),
    rule(
        "PUT",
        "/pos/api/customers/{id}/contact-preferences",
        Who::Recorders,
    ),
    rule("GET", "/pos/api/loyalty/settings", Who::Members),
    rule("PUT", "/pos/api/loyalty/settings", Who::Admins),
    rule("GET", "/pos/api/drawers", Who::Sellers),
    rule("POST", "/pos/api/drawers", Who::Sellers),
    rule("GET", "/pos/api/drawers/{id}", Who::Sellers),
    rule("GET", "/pos/api/drawers/{id}/movements", Who::Sellers),
    rule("POST", "/pos/api/drawers/{id}/cash", Who::Sellers),
    rule("POST", "/pos/api/drawers/{id}/close", Who::Sellers),
    rule("GET", "/pos/api/customers/{id}/vehicles", Who::Members),
    rule("POST", "/pos/api/inventory/adjustments", Who::Managers),
    rule("GET", "/pos/api/inventory/alerts", Who::Members),
    rule("POST", "/pos/api/inventory/counts", Who::Managers),
    rule("GET", "/pos/api/inventory/ledger", Who::Members),
    rule("GET", "/pos/api/inventory/reconciliation", Who::Managers),
    rule("GET", "/pos/api/items/{id}/stock", Who::Members),
    rule("GET", "/pos/api/catalog/parts/{id}/stock", Who::Members),
    rule("POST", "/pos/api/inventory/sync-prices", Who::Managers),
    rule("GET", "/pos/api/inventory/sync-prices/{id}", Who::Members),
    rule("GET", "/pos/api/suppliers", Who::Members),
    rule("POST", "/pos/api/suppliers", Who::Managers),
    rule("GET", "/pos/api/suppliers/{id}", Who::Members),
    rule("PATCH", "/pos/api/suppliers/{id}", Who::Managers),
    rule("DELETE", "/pos/api/suppliers/{id}", Who::Managers),
    rule("GET", "/pos/api/suppliers/{id}/prices", Who::Members),
    rule("POST", "/pos/api/suppliers/{id}/prices", Who::Managers),
    rule(
        "DELETE",
        "/pos/api/suppliers/{id}/prices/{price_id}",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/suppliers/{id}/prices/import",
        Who::Managers,
    ),
    rule("GET", "/pos/api/items/{id}/supplier-prices", Who::Members),
    rule("GET", "/pos/api/purchase-orders", Who::Members),
    rule("POST", "/pos/api/purchase-orders", Who::Managers),
    rule("GET", "/pos/api/purchase-orders/{id}", Who::Members),
    rule("PATCH", "/pos/api/purchase-orders/{id}", Who::Managers),
    rule("POST", "/pos/api/purchase-orders/{id}/lines", Who::Managers),
    rule(
        "PATCH",
        "/pos/api/purchase-orders/{id}/lines/{line_id}",
        Who::Managers,
    ),
    rule(
        "DELETE",
        "/pos/api/purchase-orders/{id}/lines/{line_id}",
        Who::Managers,
    ),
    rule("POST", "/pos/api/purchase-orders/{id}/approve", Who::Admins),
    rule("POST", "/pos/api/purchase-orders/{id}/send", Who::Managers),
    rule(
        "POST",
        "/pos/api/purchase-orders/{id}/confirm",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/purchase-orders/{id}/cancel",
        Who::Managers,
    ),
    rule("POST", "/pos/api/purchase-orders/{id}/close", Who::Managers),
    rule(
        "GET",
        "/pos/api/purchase-orders/{id}/receipts",
        Who::Members,
    ),
    rule(
        "POST",
        "/pos/api/purchase-orders/{id}/receipts",
        Who::Managers,
    ),
    rule("POST", "/pos/api/purchase-orders/{id}/cfdi", Who::Managers),
    rule(
        "POST",
        "/pos/api/purchase-orders/{id}/cfdi/{uuid}/receive",
        Who::Managers,
    ),
    rule("GET", "/pos/api/supplier-returns", Who::Members),
    rule("POST", "/pos/api/supplier-returns", Who::Managers),
    rule("GET", "/pos/api/inventory/reorder-rules", Who::Members),
    rule("POST", "/pos/api/inventory/reorder-rules", Who::Managers),
    rule(
        "PATCH",
        "/pos/api/inventory/reorder-rules/{id}",
        Who::Managers,
    ),
    rule(
        "DELETE",
        "/pos/api/inventory/reorder-rules/{id}",
        Who::Managers,
    ),
    rule("POST", "/pos/api/inventory/generate-alerts", Who::Managers),
    rule("GET", "/pos/api/inventory/reorder-alerts", Who::Members),
    rule(
        "PUT",
        "/pos/api/inventory/reorder-alerts/{id}/acknowledge",
        Who::Recorders,
    ),
    rule(
        "PUT",
        "/pos/api/inventory/reorder-alerts/{id}/resolve",
        Who::Managers,
    ),
    rule("GET", "/pos/api/inventory/reorder-suggest-po", Who::Members),
    rule(
        "POST",
        "/pos/api/inventory/reorder-suggest-po",
        Who::Managers,
    ),
    rule("GET", "/pos/api/inventory/lost-sales", Who::Members),
    rule("POST", "/pos/api/inventory/lost-sales", Who::Recorders),
    rule("GET", "/pos/api/special-orders", Who::Members),
    rule("POST", "/pos/api/special-orders", Who::Sellers),
    rule("GET", "/pos/api/special-orders/{id}", Who::Members),
    rule("POST", "/pos/api/special-orders/{id}/order", Who::Managers),
    rule("POST", "/pos/api/special-orders/{id}/collect", Who::Sellers),
    rule("POST", "/pos/api/special-orders/{id}/cancel", Who::Sellers),
    rule("GET", "/pos/api/warranty-policies", Who::Members),
    rule("POST", "/pos/api/warranty-policies", Who::Managers),
    rule("GET", "/pos/api/warranty-policies/{id}", Who::Members),
    rule("PUT", "/pos/api/warranty-policies/{id}", Who::Managers),
    rule("DELETE", "/pos/api/warranty-policies/{id}", Who::Managers),
    rule("GET", "/pos/api/warranty-settings", Who::Members),
    rule("PUT", "/pos/api/warranty-settings", Who::Managers),
    rule("GET", "/pos/api/warranties", Who::Members),
    rule("POST", "/pos/api/warranties", Who::Sellers),
    rule("GET", "/pos/api/warranties/{id}", Who::Members),
    rule("GET", "/pos/api/customers/{id}/warranties", Who::Members),
    rule("GET", "/pos/api/warranty-claims", Who::Members),
    rule("POST", "/pos/api/warranty-claims", Who::Recorders),
    rule("GET", "/pos/api/warranty-claims/{id}", Who::Members),
    rule(
        "PUT",
        "/pos/api/warranty-claims/{id}/inspect",
        Who::Recorders,
    ),
    rule(
        "PUT",
        "/pos/api/warranty-claims/{id}/approve",
        Who::Recorders,
    ),
    rule(
        "PUT",
        "/pos/api/warranty-claims/{id}/reject",
        Who::Recorders,
    ),
    rule("PUT", "/pos/api/warranty-claims/{id}/resolve", Who::Sellers),
    rule("PUT", "/pos/api/warranty-claims/{id}/close", Who::Recorders),
    rule("GET", "/pos/api/supplier-claims", Who::Members),
    rule("POST", "/pos/api/supplier-claims", Who::Managers),
    rule("GET", "/pos/api/supplier-claims/unrecovered", Who::Members),
    rule("GET", "/pos/api/supplier-claims/{id}", Who::Members),
    rule("PUT", "/pos/api/supplier-claims/{id}/send", Who::Managers),
    rule("PUT", "/pos/api/supplier-claims/{id}/accept", Who::Managers),
    rule("PUT", "/pos/api/supplier-claims/{id}/reject", Who::Managers),
    rule("PUT", "/pos/api/supplier-claims/{id}/credit", Who::Managers),
    rule(
        "PUT",
        "/pos/api/supplier-claims/{id}/replace",
        Who::Managers,
    ),
    rule("GET", "/pos/api/fleets", Who::Members),
    rule("POST", "/pos/api/fleets", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}", Who::Members),
    rule("PATCH", "/pos/api/fleets/{id}", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}/cost-centres", Who::Members),
    rule("POST", "/pos/api/fleets/{id}/cost-centres", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}/drivers", Who::Members),
    rule("POST", "/pos/api/fleets/{id}/drivers", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}/vehicles", Who::Members),
    rule("POST", "/pos/api/fleets/{id}/vehicles", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}/contracts", Who::Members),
    rule("POST", "/pos/api/fleets/{id}/contracts", Who::Recorders),
    rule("GET", "/pos/api/fleets/{id}/stats", Who::Members),
    rule("PUT", "/pos/api/fleet-contracts/{id}/close", Who::Recorders),
    rule("GET", "/pos/api/maintenance-plans", Who::Members),
    rule("POST", "/pos/api/maintenance-plans", Who::Managers),
    rule("GET", "/pos/api/fleet-settings", Who::Members),
    rule("PUT", "/pos/api/fleet-settings", Who::Managers),
    rule(
        "GET",
        "/pos/api/vehicles/registered/{id}/odometer",
        Who::Members,
    ),
    rule(
        "POST",
        "/pos/api/vehicles/registered/{id}/odometer",
        Who::Recorders,
    ),
    rule(
        "GET",
        "/pos/api/vehicles/registered/{id}/maintenance",
        Who::Members,
    ),
    rule(
        "POST",
        "/pos/api/vehicles/registered/{id}/maintenance/{plan_id}/done",
        Who::Recorders,
    ),
    rule(
        "GET",
        "/pos/api/vehicles/registered/{id}/logs",
        Who::Members,
    ),
    rule(
        "POST",
        "/pos/api/vehicles/registered/{id}/logs",
        Who::Recorders,
    ),
    rule(
        "GET",
        "/pos/api/vehicles/registered/{id}/stats",
        Who::Members,
    ),
    rule("GET", "/pos/api/purchasing/settings", Who::Members),
    rule("GET", "/pos/api/service-orders", Who::Members),
    rule("POST", "/pos/api/service-orders", Who::Recorders),
    rule("GET", "/pos/api/service-orders/kanban", Who::Members),
    rule("GET", "/pos/api/service-orders/{id}", Who::Members),
    rule("PATCH", "/pos/api/service-orders/{id}", Who::Recorders),
    rule("POST", "/pos/api/service-orders/{id}/parts", Who::Recorders),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/labour",
        Who::Recorders,
    ),
    rule(
        "DELETE",
        "/pos/api/service-orders/{id}/lines/{line_id}",
        Who::Recorders,
    ),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/diagnose",
        Who::Recorders,
    ),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/submit",
        Who::Recorders,
    ),
    rule("POST", "/pos/api/service-orders/{id}/approve", Who::Sellers),
    rule("POST", "/pos/api/service-orders/{id}/decline", Who::Sellers),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/repair",
        Who::Recorders,
    ),
    rule("POST", "/pos/api/service-orders/{id}/check", Who::Recorders),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/rework",
        Who::Recorders,
    ),
    rule("POST", "/pos/api/service-orders/{id}/ready", Who::Recorders),
    rule("POST", "/pos/api/service-orders/{id}/cancel", Who::Sellers),
    rule("POST", "/pos/api/service-orders/{id}/deliver", Who::Sellers),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/labour-time",
        Who::Recorders,
    ),
    rule(
        "POST",
        "/pos/api/service-orders/{id}/photos",
        Who::Recorders,
    ),
    rule(
        "GET",
        "/pos/api/service-orders/{id}/photos/{photo_id}",
        Who::Members,
    ),
    rule("GET", "/pos/api/service-orders/{id}/print", Who::Members),
    rule("GET", "/pos/api/workshop/settings", Who::Members),
    rule("POST", "/pos/api/cores/returns", Who::Sellers),
    rule("GET", "/pos/api/customers/{id}/cores", Who::Members),
    rule("POST", "/pos/api/cores/batches", Who::Managers),
    rule("POST", "/pos/api/cores/batches/{id}/credit", Who::Managers),
    rule("GET", "/pos/api/suppliers/{id}/cores", Who::Members),
    rule("PUT", "/pos/api/workshop/settings", Who::Admins),
    rule("PUT", "/pos/api/purchasing/settings", Who::Admins),
    rule("GET", "/pos/api/inventory/transfers", Who::Members),
    rule("POST", "/pos/api/inventory/transfers", Who::Recorders),
    rule("GET", "/pos/api/inventory/transfers/{id}", Who::Members),
    rule(
        "POST",
        "/pos/api/inventory/transfers/{id}/cancel",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/inventory/transfers/{id}/close",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/inventory/transfers/{id}/receive",
        Who::Managers,
    ),
    rule(
        "POST",
        "/pos/api/inventory/transfers/{id}/ship",
        Who::Managers,
    ),
    rule("GET", "/pos/api/invoices", Who::Members),
    rule("POST", "/pos/api/invoices/global", Who::Managers),
    rule("GET", "/pos/api/invoices/{id}", Who::Members),
    rule("POST", "/pos/api/invoices/{id}/cancel", Who::Managers),
    rule("GET", "/pos/api/invoices/{id}/payments", Who::Members),
    rule("POST", "/pos/api/invoices/{id}/payments", Who::Sellers),
    rule("GET", "/pos/api/invoices/{id}/pdf", Who::Members),
    rule("POST", "/pos/api/invoices/{id}/retry", Who::Sellers),
    rule("GET", "/pos/api/invoices/{id}/xml", Who::Members),
    rule("GET", "/pos/api/items", Who::Members),
    rule("POST", "/pos/api/items", Who::Managers),
    rule("GET", "/pos/api/items/imports", Who::Managers),
    rule("POST", "/pos/api/items/imports", Who::Managers),
    rule("GET", "/pos/api/items/imports/{id}", Who::Managers),
    rule("GET", "/pos/api/items/{id}", Who::Members),
    rule("PATCH", "/pos/api/items/{id}", Who::Managers),
    rule("GET", "/pos/api/items/{id}/prices", Who::Members),
    rule("PUT", "/pos/api/items/{id}/prices", Who::Managers),
    rule("GET", "/pos/api/quotes", Who::Members),
    rule("POST", "/pos/api/quotes", Who::Sellers),
    rule("GET", "/pos/api/quotes/{id}", Who::Members),
    rule("POST", "/pos/api/quotes/{id}/cancel", Who::Sellers),
    rule("POST", "/pos/api/quotes/{id}/convert", Who::Sellers),
    rule("POST", "/pos/api/quotes/{id}/send", Who::Sellers),
    rule("GET", "/pos/api/reports/savings", Who::Managers),
    rule("GET", "/pos/api/sales", Who::Members),
    rule("POST", "/pos/api/sales", Who::Sellers),
    rule("GET", "/pos/api/sales/{id}", Who::Members),
    rule("POST", "/pos/api/sales/{id}/cancel", Who::Managers),
    rule("POST", "/pos/api/sales/{id}/invoice", Who::Sellers),
    rule("POST", "/pos/api/sales/{id}/returns", Who::Managers),
    rule(
        "POST",
        "/pos/api/sales/{id}/returns/{return_id}/credit-note",
        Who::Sellers,
    ),
    rule("GET", "/pos/api/sales/{id}/ticket", Who::Members),
    rule("GET", "/pos/api/settings/exchange-rate", Who::Members),
    rule("PUT", "/pos/api/settings/exchange-rate", Who::Admins),
    rule("GET", "/pos/api/settings/fiscal", Who::Admins),
    rule("PUT", "/pos/api/settings/fiscal", Who::Admins),
    rule("GET", "/pos/api/settings/fiscal/sat-keys", Who::Admins),
    rule(
        "PUT",
        "/pos/api/settings/fiscal/sat-keys/{category_id}",
        Who::Admins,
    ),
    rule(
        "DELETE",
        "/pos/api/settings/fiscal/sat-keys/{category_id}",
        Who::Admins,
    ),
    rule("GET", "/pos/api/vehicles/catalog/{id}", Who::Members),
    rule("GET", "/pos/api/vehicles/engines", Who::Members),
    rule("GET", "/pos/api/vehicles/makes", Who::Members),
    rule("GET", "/pos/api/vehicles/models", Who::Members),
    rule("GET", "/pos/api/vehicles/plate/{plate}", Who::Members),
    rule("GET", "/pos/api/vehicles/registered", Who::Members),
    rule("POST", "/pos/api/vehicles/registered", Who::Recorders),
    rule("GET", "/pos/api/vehicles/registered/{id}", Who::Members),
    rule("PATCH", "/pos/api/vehicles/registered/{id}", Who::Recorders),
    rule("DELETE", "/pos/api/vehicles/registered/{id}", Who::Managers),
    rule("GET", "/pos/api/vehicles/vin/{vin}", Who::Members),
    rule("GET", "/pos/api/vehicles/years", Who::Members),
];

/// The rule of a route.
#[must_use]
pub fn rule_of(method: &Method, path: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.path == path && r.method == method.as_str())
}

/// Adds to the OpenAPI document the 403 that the table makes every endpoint answer whose rule
/// does not admit every role, where a handler's own description does not already say it: the
/// refusal comes from the table, so the document takes it from there too.
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::HttpMethod;
    for r in RULES.iter().filter(|r| r.who != Who::Members) {
        let method = match r.method {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => continue,
        };
        let Some(item) = doc.paths.paths.get_mut(r.path) else {
            continue;
        };
        let op = match method {
            HttpMethod::Get => item.get.as_mut(),
            HttpMethod::Post => item.post.as_mut(),
            HttpMethod::Put => item.put.as_mut(),
            HttpMethod::Patch => item.patch.as_mut(),
            HttpMethod::Delete => item.delete.as_mut(),
            _ => None,
        };
        if let Some(op) = op {
            op.responses
                .responses
                .entry("403".to_owned())
                .or_insert_with(|| {
                    crate::contract::error_response(&format!(
                        "`forbidden`: this needs {}",
                        r.who.label()
                    ))
                });
        }
    }
}

/// The table as `docs/roles.md` shows it.
#[must_use]
pub fn markdown() -> String {
    let mut out = String::from(
        "# Who may call what\n\nGenerated from `api/src/access.rs` (a test keeps this file equal to it; \
         refresh with `NEXUS_UPDATE_ROLES=1 cargo test -p tests --test integration roles`).\n\n\
         | method | path | roles |\n|---|---|---|\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            r.method,
            r.path,
            r.who.label()
        ));
    }
    out
}
