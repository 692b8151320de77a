//! The events Nexus tells people about: what each means, who is told by default, the context its
//! templates can use (a sample of it validates every saved template), and the platform's
//! default wording in `es-MX`.
//!
//! A message's context is the event's payload plus what the dispatch looks up from its ids:
//! `business` (`name`), and when the payload names them `customer` (`name`, `email`, `phone`),
//! `branch` (`name`), `item` (`sku`, `name`) and `warehouse` (`name`).

use serde_json::{Value, json};

/// Who is told of an event unless the business says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The event's customer, on their channels.
    Customer,
    /// Staff of these roles, in-app.
    Staff(&'static [&'static str]),
    /// Whoever a person or job addresses it to (a quote sent from the counter, a purchase order
    /// sent to its supplier): no rule, only templates.
    Direct,
}

/// One event of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct EventDef {
    /// Its name (`business_events.kind`).
    pub name: &'static str,
    /// What it means, for the settings screen.
    pub what: &'static str,
    /// Who is told by default.
    pub audience: Audience,
    /// The default title (e-mail subject, push and in-app title).
    pub title: &'static str,
    /// The default text (e-mail text part, WhatsApp, push and in-app body).
    pub text: &'static str,
    /// The default approved WhatsApp template's parameters, in order.
    pub wa_params: &'static [&'static str],
    sample: fn() -> Value,
}

impl EventDef {
    /// A context shaped like the real ones, to validate and preview templates with.
    #[must_use]
    pub fn sample(&self) -> Value {
        let mut v = (self.sample)();
        if let Some(o) = v.as_object_mut() {
            o.insert("business".into(), json!({"name": "Refaccionaria Ejemplo"}));
        }
        v
    }

    /// The name of the default approved WhatsApp template (`nexus_<event>`).
    #[must_use]
    pub fn wa_template(&self) -> String {
        format!("nexus_{}", self.name)
    }
}

fn customer() -> Value {
    json!({"name": "Taller Hernández", "email": "taller@example.mx", "phone": "+525512345678"})
}

fn item() -> Value {
    json!({"sku": "BALATA-123", "name": "Balata delantera cerámica"})
}

const STAFF_MANAGERS: &[&str] = &["owner", "admin", "manager"];
const STAFF_BUYERS: &[&str] = &["owner", "manager"];

/// Every event, in the order the settings screen lists them.
pub const EVENTS: &[EventDef] = &[
    EventDef {
        name: "low_stock",
        what: "An item's stock in a warehouse fell below its minimum.",
        audience: Audience::Staff(STAFF_BUYERS),
        title: "Stock bajo: {{ item.sku }}",
        text: "{{ item.name }} ({{ item.sku }}) quedó en {{ qty }} en {{ warehouse.name }}; el mínimo es {{ min_qty }}.",
        wa_params: &["{{ item.sku }}", "{{ qty }}", "{{ warehouse.name }}"],
        sample: || json!({"item_id": "0190a0a0-0000-7000-8000-000000000001", "warehouse_id": "0190a0a0-0000-7000-8000-000000000002", "qty": 2, "min_qty": 5, "item": item(), "warehouse": {"name": "Matriz"}}),
    },
    EventDef {
        name: "new_sale",
        what: "A sale was completed at the counter.",
        audience: Audience::Staff(STAFF_MANAGERS),
        title: "Venta {{ folio }}",
        text: "Venta {{ folio }} por ${{ total }} en {{ branch.name }}.",
        wa_params: &["{{ folio }}", "{{ total }}"],
        sample: || json!({"sale_id": "0190a0a0-0000-7000-8000-000000000003", "folio": "V-000123", "total": "1,250.00", "branch_id": "0190a0a0-0000-7000-8000-000000000004", "branch": {"name": "Matriz"}}),
    },
    EventDef {
        name: "po_received",
        what: "A purchase order received units.",
        audience: Audience::Staff(STAFF_BUYERS),
        title: "Orden de compra {{ folio }} recibida",
        text: "Se registró la recepción {{ number }} de la orden {{ folio }} (estado: {{ status }}).",
        wa_params: &["{{ folio }}", "{{ number }}"],
        sample: || json!({"folio": "OC-000045", "receipt_id": "0190a0a0-0000-7000-8000-000000000005", "number": "R-000012", "status": "received", "supplier_id": "0190a0a0-0000-7000-8000-000000000006"}),
    },
    EventDef {
        name: "reorder_alert",
        what: "A reorder rule's forecast fell below its minimum.",
        audience: Audience::Staff(STAFF_BUYERS),
        title: "Resurtir {{ item.sku }}",
        text: "{{ item.name }} ({{ item.sku }}): pronóstico {{ forecast }}, mínimo {{ min_qty }}; se sugiere pedir {{ suggested_qty }}.",
        wa_params: &["{{ item.sku }}", "{{ suggested_qty }}"],
        sample: || json!({"item_id": "0190a0a0-0000-7000-8000-000000000001", "warehouse_id": "0190a0a0-0000-7000-8000-000000000002", "forecast": 3, "min_qty": 6, "suggested_qty": 12, "item": item(), "warehouse": {"name": "Matriz"}}),
    },
    EventDef {
        name: "special_order_received",
        what: "A customer's special order arrived and is held for them.",
        audience: Audience::Customer,
        title: "Tu pedido {{ folio }} ya llegó",
        text: "Hola {{ customer.name }}, tu pedido {{ folio }} ({{ qty }} × {{ item.name }}) ya está en {{ business.name }}. Te lo apartamos.",
        wa_params: &["{{ customer.name }}", "{{ folio }}", "{{ item.name }}"],
        sample: || json!({"folio": "PE-000007", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "item_id": "0190a0a0-0000-7000-8000-000000000001", "qty": 2, "customer": customer(), "item": item()}),
    },
    EventDef {
        name: "warranty_expiring",
        what: "A warranty ends in the business's number of days.",
        audience: Audience::Customer,
        title: "Tu garantía vence el {{ expires_on }}",
        text: "Hola {{ customer.name }}, la garantía de {{ item.name }} vence el {{ expires_on }} (en {{ days_left }} días).",
        wa_params: &["{{ customer.name }}", "{{ item.name }}", "{{ expires_on }}"],
        sample: || json!({"customer_id": "0190a0a0-0000-7000-8000-000000000007", "item_id": "0190a0a0-0000-7000-8000-000000000001", "sale_id": "0190a0a0-0000-7000-8000-000000000003", "vehicle_id": null, "expires_on": "2027-01-15", "days_left": 15, "customer": customer(), "item": item()}),
    },
    EventDef {
        name: "loyalty_tier_changed",
        what: "A customer moved to another loyalty tier.",
        audience: Audience::Customer,
        title: "Tu nivel ahora es {{ to }}",
        text: "Hola {{ customer.name }}, por tus compras de los últimos 12 meses (${{ spend_12m }}) tu nivel en {{ business.name }} pasó de {{ from }} a {{ to }}.",
        wa_params: &["{{ customer.name }}", "{{ to }}"],
        sample: || json!({"customer_id": "0190a0a0-0000-7000-8000-000000000007", "name": "Taller Hernández", "from": "silver", "to": "gold", "spend_12m": "85,000.00", "customer": customer()}),
    },
    EventDef {
        name: "maintenance_due",
        what: "A fleet unit's maintenance plan became urgent at a new due point.",
        audience: Audience::Customer,
        title: "Mantenimiento {{ plan }}: {{ urgency }}",
        text: "Hola {{ customer.name }}, el mantenimiento «{{ plan }}» toca a los {{ due_km }} km o el {{ due_on }} (lo que llegue primero); la unidad lleva {{ current_km }} km.",
        wa_params: &["{{ customer.name }}", "{{ plan }}", "{{ due_on }}"],
        sample: || json!({"vehicle_id": "0190a0a0-0000-7000-8000-000000000008", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "plan_id": "0190a0a0-0000-7000-8000-000000000009", "plan": "Cambio de aceite", "due_km": 45000, "due_on": "2027-01-10", "current_km": 44200, "urgency": "urgent", "metric": "km", "projected_on": "2027-01-05", "alert_on": "2026-12-20", "customer": customer()}),
    },
    EventDef {
        name: "contract_expiring",
        what: "A fleet contract (insurance, verificación, tenencia) nears its end.",
        audience: Audience::Customer,
        title: "Vence {{ kind }} el {{ expires_on }}",
        text: "Hola {{ customer.name }}, {{ kind }} ({{ provider }} {{ reference }}) vence el {{ expires_on }}: faltan {{ days_left }} días.",
        wa_params: &["{{ customer.name }}", "{{ kind }}", "{{ expires_on }}"],
        sample: || json!({"customer_id": "0190a0a0-0000-7000-8000-000000000007", "vehicle_id": "0190a0a0-0000-7000-8000-000000000008", "kind": "insurance", "provider": "GNP", "reference": "POL-778812", "expires_on": "2027-01-31", "days_left": 30, "notice_days": 30, "customer": customer()}),
    },
    EventDef {
        name: "service_order_awaiting_approval",
        what: "A service order's budget waits for the customer's approval.",
        audience: Audience::Customer,
        title: "Presupuesto de la orden {{ folio }}",
        text: "Hola {{ customer.name }}, el presupuesto de tu {{ vehicle }} ({{ plate }}) está listo para tu aprobación. Orden {{ folio }}.",
        wa_params: &["{{ customer.name }}", "{{ folio }}"],
        sample: || json!({"folio": "OS-000031", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "branch_id": "0190a0a0-0000-7000-8000-000000000004", "plate": "ABC-123-D", "vehicle": "Nissan Versa 2019", "token": "q7Hk2", "customer": customer(), "branch": {"name": "Matriz"}}),
    },
    EventDef {
        name: "service_order_ready",
        what: "A service order is ready to be picked up (the original system's order_ready).",
        audience: Audience::Customer,
        title: "Tu {{ vehicle }} está listo",
        text: "Hola {{ customer.name }}, tu {{ vehicle }} ({{ plate }}) está listo para entrega en {{ branch.name }}. Orden {{ folio }}.",
        wa_params: &["{{ customer.name }}", "{{ vehicle }}", "{{ folio }}"],
        sample: || json!({"folio": "OS-000031", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "branch_id": "0190a0a0-0000-7000-8000-000000000004", "plate": "ABC-123-D", "vehicle": "Nissan Versa 2019", "token": "q7Hk2", "customer": customer(), "branch": {"name": "Matriz"}}),
    },
    EventDef {
        name: "service_order_delivered",
        what: "A service order was delivered to its customer.",
        audience: Audience::Customer,
        title: "Gracias por tu visita",
        text: "Hola {{ customer.name }}, entregamos tu {{ vehicle }} ({{ plate }}). Orden {{ folio }}. ¡Gracias por confiar en {{ business.name }}!",
        wa_params: &["{{ customer.name }}", "{{ folio }}"],
        sample: || json!({"folio": "OS-000031", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "branch_id": "0190a0a0-0000-7000-8000-000000000004", "plate": "ABC-123-D", "vehicle": "Nissan Versa 2019", "token": "q7Hk2", "customer": customer(), "branch": {"name": "Matriz"}}),
    },
    EventDef {
        name: "quote_sent",
        what: "A quote is sent to its customer (by the quote's send button).",
        audience: Audience::Direct,
        title: "Cotización {{ folio }}",
        text: "Cotización {{ folio }} de {{ business.name }} por ${{ total }}, válida hasta {{ valid_until }}: {{ url }}",
        wa_params: &["{{ folio }}", "{{ total }}", "{{ url }}"],
        sample: || json!({"folio": "C-000051", "total": "3,480.00", "valid_until": "2026-12-20", "url": "https://pos.example.mx/q/Zk81"}),
    },
    EventDef {
        name: "invoice_stamped",
        what: "A CFDI was stamped (its PDF and XML go with the e-mail).",
        audience: Audience::Customer,
        title: "Factura {{ series }}{{ folio }}",
        text: "Hola {{ customer.name }}, adjuntamos tu factura {{ series }}{{ folio }} por ${{ total }} (folio fiscal {{ uuid }}).",
        wa_params: &["{{ customer.name }}", "{{ series }}{{ folio }}"],
        sample: || json!({"invoice_id": "0190a0a0-0000-7000-8000-00000000000a", "customer_id": "0190a0a0-0000-7000-8000-000000000007", "series": "A", "folio": "1042", "total": "1,160.00", "uuid": "6F8A3C1E-1F2B-4C3D-9E8F-0A1B2C3D4E5F", "customer": customer()}),
    },
    EventDef {
        name: "sale_ticket",
        what: "A sale's ticket, sent to its customer when the sale completes.",
        audience: Audience::Direct,
        title: "Tu compra {{ folio }}",
        text: "Gracias por tu compra {{ folio }} en {{ business.name }} por ${{ total }}.{% if savings != \"0.00\" %} Ahorraste ${{ savings }}.{% endif %}",
        wa_params: &["{{ folio }}", "{{ total }}"],
        sample: || json!({"folio": "V-000123", "total": "1,250.00", "savings": "85.00", "total_cents": 125_000, "savings_cents": 8_500}),
    },
    EventDef {
        name: "purchase_order_sent",
        what: "A purchase order sent to its supplier, its PDF attached.",
        audience: Audience::Direct,
        title: "Orden de compra {{ folio }} de {{ business.name }}",
        text: "Estimado {{ supplier }}: adjuntamos nuestra orden de compra {{ folio }} por {{ total }} {{ currency }}. Gracias.",
        wa_params: &["{{ folio }}"],
        sample: || json!({"folio": "OC-000045", "supplier": "Distribuidora del Norte", "total": "12,400.00", "total_cents": 1_240_000, "currency": "MXN", "attachments": []}),
    },
    EventDef {
        name: "global_cancellation_rejected",
        what: "The SAT refused to cancel a global invoice: its sales stay invoiced.",
        audience: Audience::Direct,
        title: "Cancelación rechazada: factura global {{ folio }}",
        text: "La cancelación de la factura global {{ folio }} ({{ uuid }}) fue rechazada: {{ reason }}.",
        wa_params: &["{{ folio }}"],
        sample: || json!({"reason": "el receptor no aceptó", "invoice_id": "0190a0a0-0000-7000-8000-00000000000a", "folio": "G-17", "uuid": "6F8A3C1E-1F2B-4C3D-9E8F-0A1B2C3D4E5F", "sales": [], "facturapi": null}),
    },
];

/// The catalogue's entry for `name`.
#[must_use]
pub fn event(name: &str) -> Option<&'static EventDef> {
    EVENTS.iter().find(|e| e.name == name)
}
