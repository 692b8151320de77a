//! A supplier's CFDI 4.0 invoice: the XML that comes with the goods, read into figures and
//! matched to the lines of a purchase order, so receiving starts from the invoice and a person
//! looks only at what differs.
//!
//! The XML is uploaded from outside, so reading it is bounded: at most [`MAX_XML_BYTES`] and
//! [`MAX_CONCEPTS`], one streaming pass that never builds a tree, no DOCTYPE and no entity but the
//! five XML predefines (so no external entity and no entity expansion bomb). Elements are known
//! by their local names along their path from the root, so any namespace prefix works, and an
//! Addenda's own `Concepto` or the document's tax totals are never read as an invoice line.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::encoding::Decoder;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use uuid::Uuid;

use crate::rules::money::{MAX_CENTS, decimal, round_cents};
use crate::{Error, Result};

/// The largest CFDI accepted, in bytes. A real one with thousands of concepts stays far below;
/// anything bigger is refused before a single byte is parsed.
pub const MAX_XML_BYTES: usize = 2 * 1024 * 1024;

/// The most `Concepto` elements one CFDI may hold.
pub const MAX_CONCEPTS: usize = 5_000;

/// The namespace of a CFDI 4.0 `Comprobante` (Anexo 20).
pub const CFDI_4_NAMESPACE: &str = "http://www.sat.gob.mx/cfd/4";

/// A CFDI nests about eight levels, complements and addenda a few more; a deeper document is
/// not an invoice, and the bound keeps the element stack small.
const MAX_DEPTH: usize = 64;

/// The request field every parsing error names: the uploaded document.
const FIELD: &str = "xml";

/// The figures of a supplier's stamped income invoice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SupplierInvoice {
    /// The fiscal folio of the stamp (`TimbreFiscalDigital@UUID`), upper-cased.
    pub uuid: String,
    /// The supplier's RFC (`Emisor@Rfc`).
    pub issuer_rfc: String,
    /// The supplier's name as stamped (`Emisor@Nombre`).
    pub issuer_name: String,
    /// Our RFC as the supplier wrote it (`Receptor@Rfc`): the caller checks it is ours.
    pub receiver_rfc: String,
    /// The supplier's own series (`Serie`), when given.
    pub series: Option<String>,
    /// The supplier's own folio (`Folio`), when given.
    pub folio: Option<String>,
    /// When it was issued (`Fecha`), as written: local time of the place of issue, no zone.
    pub issued_at: String,
    /// Currency code (`Moneda`), e.g. `MXN`.
    pub currency: String,
    /// Pesos per unit of `currency` (`TipoCambio`), when given.
    pub exchange_rate: Option<Decimal>,
    /// `SubTotal`: the concepts' amounts before discounts and taxes, in centavos.
    pub subtotal_cents: i64,
    /// `Descuento`, in centavos; 0 when absent.
    pub discount_cents: i64,
    /// `Total`, in centavos.
    pub total_cents: i64,
    /// The invoice lines, in document order.
    pub concepts: Vec<Concept>,
}

/// One invoice line (`Conceptos/Concepto`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub struct Concept {
    /// The supplier's part number (`NoIdentificacion`), when given.
    pub supplier_sku: Option<String>,
    /// `Descripcion`.
    pub description: String,
    /// SAT product key (`ClaveProdServ`).
    pub sat_product_key: String,
    /// SAT unit key (`ClaveUnidad`), e.g. `H87` for a piece.
    pub sat_unit_key: Option<String>,
    /// `Cantidad`, exact (SAT allows six decimals).
    pub quantity: Decimal,
    /// `ValorUnitario` rounded to centavos.
    pub unit_price_cents: i64,
    /// `Importe` (quantity × unit value, before the discount), in centavos.
    pub amount_cents: i64,
    /// `Descuento` of the line, in centavos; 0 when absent.
    pub discount_cents: i64,
    /// IVA rate (`TasaOCuota` of the transferred tax `002`, e.g. `0.160000`); `None` when the
    /// line carries no IVA or is exempt.
    pub iva_rate: Option<Decimal>,
}

/// Reads a supplier's CFDI 4.0 XML.
///
/// Only a stamped income invoice (`TipoDeComprobante="I"`) of version 4.0 is accepted: a credit
/// note or a payment receipt does not bring goods.
///
/// # Errors
/// [`Error::Validation`] on field `xml`: larger than [`MAX_XML_BYTES`], not UTF-8, malformed
/// (the message names the byte), a DOCTYPE, an entity other than the XML predefined ones, not a
/// CFDI 4.0 income invoice, a required attribute missing or not a number, more than
/// [`MAX_CONCEPTS`] concepts, no stamp.
pub fn parse(xml: &[u8]) -> Result<SupplierInvoice> {
    if xml.len() > MAX_XML_BYTES {
        return Err(invalid(format!(
            "the XML is {} bytes, larger than 2 MiB ({MAX_XML_BYTES} bytes): it cannot be a supplier's invoice",
            xml.len()
        )));
    }
    // Anexo 20 makes a CFDI UTF-8; checking it once lets every value below be read as text.
    if let Err(e) = std::str::from_utf8(xml) {
        return Err(invalid(format!(
            "the XML is not UTF-8 text (byte {})",
            e.valid_up_to()
        )));
    }
    let mut reader = Reader::from_reader(xml);
    let decoder = reader.decoder();
    let mut stack: Vec<Tag> = Vec::new();
    let mut seen_root = false;
    let mut doc = Builder::default();
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err(malformed(reader.error_position(), &e)),
        };
        let at = reader.buffer_position();
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let tag = match stack.last() {
                    Some(&parent) => parent.child(e.local_name().as_ref()),
                    None if seen_root => {
                        return Err(malformed(at, &"a second root element"));
                    }
                    None if e.local_name().as_ref() == b"Comprobante" => Tag::Comprobante,
                    None => {
                        return Err(invalid(format!(
                            "not a CFDI: the root element is <{}>, not Comprobante",
                            String::from_utf8_lossy(e.name().as_ref())
                        )));
                    }
                };
                seen_root = true;
                let attrs = attributes(e, decoder, at)?;
                doc.element(tag, e, &attrs)?;
                // `Empty` is `<x/>`: it closes itself, so it never goes on the stack.
                if matches!(event, Event::Start(_)) {
                    if stack.len() == MAX_DEPTH {
                        return Err(invalid(format!(
                            "the XML nests deeper than {MAX_DEPTH} elements (byte {at})"
                        )));
                    }
                    stack.push(tag);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::DocType(_) => return Err(invalid("a DOCTYPE is not allowed in a CFDI")),
            Event::GeneralRef(r) => reference(&r, at)?,
            Event::Text(t) if stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(malformed(at, &"text outside the root element"));
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding()
                    && !enc.eq_ignore_ascii_case(b"UTF-8")
                {
                    return Err(invalid(format!(
                        "a CFDI is UTF-8; this XML declares encoding {:?}",
                        String::from_utf8_lossy(&enc)
                    )));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(
            reader.buffer_position(),
            &"the document ends before its elements are closed",
        ));
    }
    doc.finish()
}

fn invalid(message: impl Into<String>) -> Error {
    Error::validation(FIELD, message)
}

fn malformed(at: u64, what: &dyn std::fmt::Display) -> Error {
    invalid(format!("malformed XML at byte {at}: {what}"))
}

fn entity_refused(name: &str) -> Error {
    invalid(format!(
        "the entity reference &{name}; is not allowed in a CFDI: only &lt; &gt; &amp; &apos; &quot; and character references"
    ))
}

/// A reference in text: a character reference or one of the five predefined entities. Anything
/// else would need a DTD to mean something, and a DTD is refused.
fn reference(r: &BytesRef<'_>, at: u64) -> Result<()> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .map(|_| ())
            .map_err(|e| malformed(at, &e));
    }
    let name = String::from_utf8_lossy(r);
    match resolve_xml_entity(&name) {
        Some(_) => Ok(()),
        None => Err(entity_refused(&name)),
    }
}

/// An element's attributes, unescaped, keyed by their name as written.
type Attrs<'e> = Vec<(&'e [u8], Cow<'e, str>)>;

fn attributes<'e>(e: &'e BytesStart<'_>, decoder: Decoder, at: u64) -> Result<Attrs<'e>> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(at, &err))?;
        let mut unknown = None;
        let value = a
            .decode_and_unescape_value_with(decoder, |name| {
                let known = resolve_xml_entity(name);
                if known.is_none() {
                    unknown = Some(name.to_owned());
                }
                known
            })
            .map_err(|err| match unknown.take() {
                Some(name) => entity_refused(&name),
                None => malformed(at, &err),
            })?;
        out.push((a.key.into_inner(), value));
    }
    Ok(out)
}

/// An attribute's value, trimmed; blank is absent.
fn attr<'a>(attrs: &'a Attrs<'_>, name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| *k == name.as_bytes())
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A required attribute of `element` (`"Concepto 3"`).
fn required<'a>(attrs: &'a Attrs<'_>, element: &str, name: &str) -> Result<&'a str> {
    attr(attrs, name).ok_or_else(|| invalid(format!("{element} has no {name}")))
}

/// A decimal attribute as SAT writes them: plain digits and one point, no sign.
fn number(element: &str, name: &str, value: &str) -> Result<Decimal> {
    decimal(FIELD, value).map_err(|_| {
        invalid(format!(
            "{element} {name} is not a decimal number: {value:?}"
        ))
    })
}

/// An amount in centavos; SAT allows up to six decimals, which round half away from zero.
fn cents(element: &str, name: &str, value: &str) -> Result<i64> {
    let d = number(element, name, value)?;
    d.checked_mul(Decimal::ONE_HUNDRED)
        .map(round_cents)
        .and_then(|c| c.to_i64())
        .filter(|c| *c <= MAX_CENTS)
        .ok_or_else(|| invalid(format!("{element} {name} {value} is too large")))
}

/// Where an element sits, as far as an invoice cares. Anything else is [`Tag::Other`], and so is
/// everything below it: an Addenda's `Concepto` is not a line of the invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Comprobante,
    Emisor,
    Receptor,
    Conceptos,
    Concepto,
    ConceptTaxes,
    ConceptTransfers,
    ConceptTransfer,
    Complemento,
    Stamp,
    Other,
}

impl Tag {
    fn child(self, local: &[u8]) -> Self {
        match (self, local) {
            (Self::Comprobante, b"Emisor") => Self::Emisor,
            (Self::Comprobante, b"Receptor") => Self::Receptor,
            (Self::Comprobante, b"Conceptos") => Self::Conceptos,
            (Self::Comprobante, b"Complemento") => Self::Complemento,
            (Self::Conceptos, b"Concepto") => Self::Concepto,
            (Self::Concepto, b"Impuestos") => Self::ConceptTaxes,
            (Self::ConceptTaxes, b"Traslados") => Self::ConceptTransfers,
            (Self::ConceptTransfers, b"Traslado") => Self::ConceptTransfer,
            (Self::Complemento, b"TimbreFiscalDigital") => Self::Stamp,
            _ => Self::Other,
        }
    }
}

/// What the stream has shown so far.
#[derive(Default)]
struct Builder {
    head: Option<Head>,
    issuer: Option<(String, String)>,
    receiver_rfc: Option<String>,
    uuid: Option<String>,
    concepts: Vec<Concept>,
}

/// The attributes of `Comprobante` itself.
struct Head {
    series: Option<String>,
    folio: Option<String>,
    issued_at: String,
    currency: String,
    exchange_rate: Option<Decimal>,
    subtotal_cents: i64,
    discount_cents: i64,
    total_cents: i64,
}

impl Builder {
    fn element(&mut self, tag: Tag, e: &BytesStart<'_>, attrs: &Attrs<'_>) -> Result<()> {
        match tag {
            Tag::Comprobante => self.head = Some(head(e, attrs)?),
            Tag::Emisor => {
                if self.issuer.is_some() {
                    return Err(invalid("the CFDI has more than one Emisor"));
                }
                let rfc = required(attrs, "Emisor", "Rfc")?.to_owned();
                let name = required(attrs, "Emisor", "Nombre")?.to_owned();
                self.issuer = Some((rfc, name));
            }
            Tag::Receptor => {
                if self.receiver_rfc.is_some() {
                    return Err(invalid("the CFDI has more than one Receptor"));
                }
                self.receiver_rfc = Some(required(attrs, "Receptor", "Rfc")?.to_owned());
            }
            Tag::Concepto => {
                if self.concepts.len() == MAX_CONCEPTS {
                    return Err(invalid(format!(
                        "the CFDI has more than {MAX_CONCEPTS} Conceptos"
                    )));
                }
                let n = self.concepts.len() + 1;
                self.concepts
                    .push(concept(&format!("Concepto {n}"), attrs)?);
            }
            Tag::ConceptTransfer => {
                let n = self.concepts.len();
                if let Some(c) = self.concepts.last_mut()
                    && c.iva_rate.is_none()
                    && attr(attrs, "Impuesto") == Some("002")
                    && let Some(rate) = attr(attrs, "TasaOCuota")
                {
                    c.iva_rate = Some(number(
                        &format!("Concepto {n} Traslado"),
                        "TasaOCuota",
                        rate,
                    )?);
                }
            }
            Tag::Stamp => {
                if self.uuid.is_some() {
                    return Err(invalid("the CFDI has more than one TimbreFiscalDigital"));
                }
                let Some(uuid) = attr(attrs, "UUID") else {
                    return Err(not_stamped());
                };
                // The hyphenated form is the only one SAT stamps; the folio is compared as text.
                if uuid.len() != 36 || Uuid::try_parse(uuid).is_err() {
                    return Err(invalid(format!(
                        "the TimbreFiscalDigital UUID {uuid:?} is not a UUID"
                    )));
                }
                self.uuid = Some(uuid.to_ascii_uppercase());
            }
            Tag::Conceptos
            | Tag::ConceptTaxes
            | Tag::ConceptTransfers
            | Tag::Complemento
            | Tag::Other => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<SupplierInvoice> {
        let head = self
            .head
            .ok_or_else(|| invalid("the XML has no root element"))?;
        let (issuer_rfc, issuer_name) = self
            .issuer
            .ok_or_else(|| invalid("the CFDI has no Emisor"))?;
        let receiver_rfc = self
            .receiver_rfc
            .ok_or_else(|| invalid("the CFDI has no Receptor"))?;
        if self.concepts.is_empty() {
            return Err(invalid("the CFDI has no Concepto"));
        }
        let uuid = self.uuid.ok_or_else(not_stamped)?;
        Ok(SupplierInvoice {
            uuid,
            issuer_rfc,
            issuer_name,
            receiver_rfc,
            series: head.series,
            folio: head.folio,
            issued_at: head.issued_at,
            currency: head.currency,
            exchange_rate: head.exchange_rate,
            subtotal_cents: head.subtotal_cents,
            discount_cents: head.discount_cents,
            total_cents: head.total_cents,
            concepts: self.concepts,
        })
    }
}

fn not_stamped() -> Error {
    invalid("the CFDI is not stamped: no TimbreFiscalDigital UUID")
}

/// Reads `Comprobante`: a version, namespace and kind this module understands, then its figures.
fn head(e: &BytesStart<'_>, attrs: &Attrs<'_>) -> Result<Head> {
    const EL: &str = "Comprobante";
    let version = required(attrs, EL, "Version")?;
    if version != "4.0" {
        return Err(invalid(format!(
            "CFDI version {version} is not accepted: only CFDI 4.0"
        )));
    }
    // The prefix is free, the namespace it stands for is not: `cfdi:`, `c:` or none all work.
    let declaration = match e.name().prefix() {
        Some(p) => [b"xmlns:", p.as_ref()].concat(),
        None => b"xmlns".to_vec(),
    };
    let namespace = attrs
        .iter()
        .find(|(k, _)| *k == declaration.as_slice())
        .map(|(_, v)| v.trim());
    if namespace != Some(CFDI_4_NAMESPACE) {
        return Err(invalid(format!(
            "the Comprobante is not in the CFDI 4.0 namespace {CFDI_4_NAMESPACE}"
        )));
    }
    let kind = required(attrs, EL, "TipoDeComprobante")?;
    if kind != "I" {
        let what = match kind {
            "E" => "egreso: a credit note",
            "P" => "pago: a payment receipt",
            "T" => "traslado: a transport document",
            "N" => "nómina: a payroll receipt",
            _ => "an unknown kind",
        };
        return Err(invalid(format!(
            "only an income invoice (TipoDeComprobante \"I\") can be received; this CFDI is {kind:?} ({what})"
        )));
    }
    let owned = |v: Option<&str>| v.map(str::to_owned);
    Ok(Head {
        series: owned(attr(attrs, "Serie")),
        folio: owned(attr(attrs, "Folio")),
        issued_at: required(attrs, EL, "Fecha")?.to_owned(),
        currency: required(attrs, EL, "Moneda")?.to_owned(),
        exchange_rate: attr(attrs, "TipoCambio")
            .map(|v| number(EL, "TipoCambio", v))
            .transpose()?,
        subtotal_cents: cents(EL, "SubTotal", required(attrs, EL, "SubTotal")?)?,
        discount_cents: attr(attrs, "Descuento").map_or(Ok(0), |v| cents(EL, "Descuento", v))?,
        total_cents: cents(EL, "Total", required(attrs, EL, "Total")?)?,
    })
}

/// Reads one `Concepto`; `el` names it in errors (`"Concepto 3"`).
fn concept(el: &str, attrs: &Attrs<'_>) -> Result<Concept> {
    let quantity = number(el, "Cantidad", required(attrs, el, "Cantidad")?)?;
    if quantity.is_zero() {
        return Err(invalid(format!("{el} has Cantidad 0")));
    }
    Ok(Concept {
        supplier_sku: attr(attrs, "NoIdentificacion").map(str::to_owned),
        description: required(attrs, el, "Descripcion")?.to_owned(),
        sat_product_key: required(attrs, el, "ClaveProdServ")?.to_owned(),
        sat_unit_key: attr(attrs, "ClaveUnidad").map(str::to_owned),
        quantity: quantity.normalize(),
        unit_price_cents: cents(el, "ValorUnitario", required(attrs, el, "ValorUnitario")?)?,
        amount_cents: cents(el, "Importe", required(attrs, el, "Importe")?)?,
        discount_cents: attr(attrs, "Descuento").map_or(Ok(0), |v| cents(el, "Descuento", v))?,
        iva_rate: None,
    })
}

/// What a purchase-order line offers to be matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoLineRef {
    /// The PO line.
    pub line_id: Uuid,
    /// The supplier's part number for the item, when known.
    pub supplier_sku: Option<String>,
    /// Our SKU of the item.
    pub item_sku: String,
    /// Our name of the item.
    pub name: String,
    /// Units ordered and not yet received.
    pub open_qty: i64,
    /// The agreed unit cost before IVA, in centavos.
    pub unit_cost_cents: i64,
}

/// Which rule paired a concept with a line, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// `NoIdentificacion` equals the line's supplier SKU.
    SupplierSku,
    /// `NoIdentificacion` equals our item SKU.
    ItemSku,
    /// The description equals the line's name, or contains it and no other open line's name.
    Description,
}

/// The invoiced quantity differs from what is still open on the line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct QtyMismatch {
    /// `Cantidad` as invoiced (it may have decimals, which whole units never match).
    pub invoiced: Decimal,
    /// Units still open on the line.
    pub open: i64,
}

/// The invoiced net unit price differs from the ordered unit cost by more than a centavo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PriceMismatch {
    /// (Importe − Descuento) / Cantidad, rounded to centavos.
    pub invoiced_cents: i64,
    /// The line's unit cost.
    pub ordered_cents: i64,
}

/// How one concept of the invoice pairs with the purchase order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ConceptMatch {
    /// Index into [`SupplierInvoice::concepts`].
    pub concept_index: usize,
    /// The matched PO line; `None` when no line fits.
    pub line_id: Option<Uuid>,
    /// The rule that matched it.
    pub matched_by: Option<MatchedBy>,
    /// Whole units invoiced; a fractional `Cantidad` is rounded down here and always reported in
    /// `qty_mismatch`, since stock counts whole units.
    pub quantity: i64,
    /// Set when the invoiced quantity is not exactly the line's open quantity.
    pub qty_mismatch: Option<QtyMismatch>,
    /// Set when the net unit price is more than a centavo away from the line's unit cost.
    pub price_mismatch: Option<PriceMismatch>,
}

/// Match keys, one per concept or per line; `None` where there is nothing to compare.
type Keys = Vec<Option<String>>;

/// The tolerance of a unit price, in centavos: rounding a six-decimal unit value can move it one.
const PRICE_TOLERANCE_CENTS: i64 = 1;

/// Pairs each concept of `invoice` with at most one line of `lines`, and each line with at most
/// one concept; one result per concept, in the invoice's order.
///
/// The rules run in passes over the whole invoice, strongest first, so a concept's weak match by
/// description never takes a line another concept names by SKU: the supplier's SKU (trimmed, any
/// case), then our item SKU, then the description equal to the line's name (case, Spanish
/// accents and spacing ignored), then the description containing the line's name as whole
/// words, only when that concept has exactly one such open line and that line fits no other
/// concept. Among lines with the same SKU, one whose open quantity equals the invoiced one is
/// taken first.
#[must_use]
pub fn match_lines(invoice: &SupplierInvoice, lines: &[PoLineRef]) -> Vec<ConceptMatch> {
    let concepts = &invoice.concepts;
    let mut pairs: Vec<Option<(usize, MatchedBy)>> = vec![None; concepts.len()];
    let mut taken = vec![false; lines.len()];
    let sku = |s: &str| Some(s.trim().to_lowercase()).filter(|k| !k.is_empty());

    let concept_skus: Keys = concepts
        .iter()
        .map(|c| c.supplier_sku.as_deref().and_then(sku))
        .collect();
    let supplier_skus: Keys = lines
        .iter()
        .map(|l| l.supplier_sku.as_deref().and_then(sku))
        .collect();
    let item_skus: Keys = lines.iter().map(|l| sku(&l.item_sku)).collect();
    let descriptions: Keys = concepts.iter().map(|c| words(&c.description)).collect();
    let names: Keys = lines.iter().map(|l| words(&l.name)).collect();

    let exact_passes = [
        (MatchedBy::SupplierSku, &concept_skus, &supplier_skus),
        (MatchedBy::ItemSku, &concept_skus, &item_skus),
        (MatchedBy::Description, &descriptions, &names),
    ];
    for (by, concept_keys, line_keys) in exact_passes {
        for (ci, key) in concept_keys.iter().enumerate() {
            let Some(key) = key else { continue };
            if pairs[ci].is_some() {
                continue;
            }
            let open = |li: &usize| !taken[*li] && line_keys[*li].as_ref() == Some(key);
            let same_qty = |li: &usize| whole_units(&concepts[ci]) == Some(lines[*li].open_qty);
            let best = (0..lines.len())
                .filter(open)
                .find(same_qty)
                .or_else(|| (0..lines.len()).find(open));
            if let Some(li) = best {
                taken[li] = true;
                pairs[ci] = Some((li, by));
            }
        }
    }

    // The last resort: a description that contains a line's name. Ambiguity either way means no
    // match, so the result never depends on the order of the concepts.
    let candidates: Vec<Vec<usize>> = (0..concepts.len())
        .map(|ci| match (&pairs[ci], &descriptions[ci]) {
            (None, Some(d)) => {
                let padded = format!(" {d} ");
                (0..lines.len())
                    .filter(|&li| !taken[li])
                    .filter(|&li| {
                        names[li]
                            .as_ref()
                            .is_some_and(|n| padded.contains(&format!(" {n} ")))
                    })
                    .collect()
            }
            _ => Vec::new(),
        })
        .collect();
    for ci in 0..concepts.len() {
        if let [li] = candidates[ci][..]
            && candidates.iter().filter(|c| c.contains(&li)).count() == 1
        {
            taken[li] = true;
            pairs[ci] = Some((li, MatchedBy::Description));
        }
    }

    concepts
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let pair = pairs[ci].map(|(li, by)| (&lines[li], by));
            let whole = whole_units(c);
            ConceptMatch {
                concept_index: ci,
                line_id: pair.map(|(l, _)| l.line_id),
                matched_by: pair.map(|(_, by)| by),
                quantity: c.quantity.floor().to_i64().unwrap_or(i64::MAX),
                qty_mismatch: pair
                    .filter(|(l, _)| whole != Some(l.open_qty))
                    .map(|(l, _)| QtyMismatch {
                        invoiced: c.quantity,
                        open: l.open_qty,
                    }),
                price_mismatch: pair.and_then(|(l, _)| {
                    let invoiced = net_unit_cents(c)?;
                    ((invoiced - l.unit_cost_cents).abs() > PRICE_TOLERANCE_CENTS).then_some(
                        PriceMismatch {
                            invoiced_cents: invoiced,
                            ordered_cents: l.unit_cost_cents,
                        },
                    )
                }),
            }
        })
        .collect()
}

/// The concept's quantity when it is a whole number of units.
fn whole_units(c: &Concept) -> Option<i64> {
    c.quantity
        .fract()
        .is_zero()
        .then(|| c.quantity.to_i64())
        .flatten()
}

/// (Importe − Descuento) / Cantidad, rounded to centavos; `None` for a quantity of zero, which
/// [`parse`] never yields.
fn net_unit_cents(c: &Concept) -> Option<i64> {
    let net = Decimal::from(c.amount_cents.checked_sub(c.discount_cents)?);
    net.checked_div(c.quantity)
        .map(round_cents)
        .and_then(|d| d.to_i64())
}

/// Text compared as words: lower case, Spanish accents folded, runs of spacing made one space;
/// `None` when nothing is left.
fn words(text: &str) -> Option<String> {
    let folded = crate::catalog::text::fold(text);
    let joined = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(joined).filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A supplier's invoice as a PAC returns it, written by hand after Anexo 20 (cfdv40.xsd):
    /// three concepts with their taxes, the document's tax totals, the stamp, and an Addenda
    /// with a `Concepto` of its own that must not be read.
    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital" xsi:schemaLocation="http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd" Version="4.0" Serie="FA" Folio="10234" Fecha="2025-03-14T10:22:31" Sello="dGhpcyBpcyBub3QgYSByZWFsIHNlYWw=" FormaPago="99" NoCertificado="30001000000500003416" Certificado="MIIFsDCCA5igAwIBAgIUMzAwMDEwMDAwMDA1MDAwMDM0MTYwDQYJKoZIhvcNAQEL" CondicionesDePago="Crédito 30 días" SubTotal="4130.03" Descuento="130.03" Moneda="MXN" TipoCambio="1" Total="4640.00" TipoDeComprobante="I" Exportacion="01" MetodoPago="PPD" LugarExpedicion="64000">
  <cfdi:Emisor Rfc="DAN980312AB1" Nombre="DISTRIBUIDORA AUTOPARTES DEL NORTE &amp; ASOCIADOS" RegimenFiscal="601"/>
  <cfdi:Receptor Rfc="RSE010101AB2" Nombre="REFACCIONARIA EL SEÑOR" DomicilioFiscalReceptor="06600" RegimenFiscalReceptor="612" UsoCFDI="G01"/>
  <cfdi:Conceptos>
    <cfdi:Concepto ClaveProdServ="25174004" NoIdentificacion="BRK-D1234" Cantidad="10" ClaveUnidad="H87" Unidad="Pieza" Descripcion="Balata delantera cerámica" ValorUnitario="250.00" Importe="2500.00" Descuento="100.00" ObjetoImp="02">
      <cfdi:Impuestos>
        <cfdi:Traslados>
          <cfdi:Traslado Base="2400.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="384.00"/>
        </cfdi:Traslados>
      </cfdi:Impuestos>
    </cfdi:Concepto>
    <cfdi:Concepto ClaveProdServ="25174002" NoIdentificacion="PH-3614" Cantidad="3" ClaveUnidad="H87" Unidad="Pieza" Descripcion="Filtro de aceite" ValorUnitario="33.333333" Importe="100.00" ObjetoImp="02">
      <cfdi:Impuestos>
        <cfdi:Traslados>
          <cfdi:Traslado Base="100.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="16.00"/>
        </cfdi:Traslados>
      </cfdi:Impuestos>
    </cfdi:Concepto>
    <cfdi:Concepto ClaveProdServ="25172504" Cantidad="6" ClaveUnidad="H87" Descripcion="Bujía  de iridio &quot;IX&quot;" ValorUnitario="255.005" Importe="1530.03" Descuento="30.03" ObjetoImp="02">
      <cfdi:Impuestos>
        <cfdi:Traslados>
          <cfdi:Traslado Base="1500.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="240.00"/>
        </cfdi:Traslados>
      </cfdi:Impuestos>
    </cfdi:Concepto>
  </cfdi:Conceptos>
  <cfdi:Impuestos TotalImpuestosTrasladados="640.00">
    <cfdi:Traslados>
      <cfdi:Traslado Base="4000.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.080000" Importe="640.00"/>
    </cfdi:Traslados>
  </cfdi:Impuestos>
  <cfdi:Complemento>
    <tfd:TimbreFiscalDigital xsi:schemaLocation="http://www.sat.gob.mx/TimbreFiscalDigital http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd" Version="1.1" UUID="5f3c2a1e-9b7d-4e2f-8a61-0c4d2b7e9f10" FechaTimbrado="2025-03-14T10:23:05" RfcProvCertif="SAT970701NN3" SelloCFD="dGhpcyBpcyBub3QgYSByZWFsIHNlYWw=" NoCertificadoSAT="00001000000509846663" SelloSAT="bm90IGEgcmVhbCBTQVQgc2VhbA=="/>
  </cfdi:Complemento>
  <cfdi:Addenda>
    <prov:Pedido xmlns:prov="http://proveedor.example.com/addenda" OrdenCompra="OC-000123">
      <prov:Concepto Cantidad="999" Descripcion="not an invoice line"/>
    </prov:Pedido>
  </cfdi:Addenda>
</cfdi:Comprobante>
"#;

    fn refused(xml: &[u8]) -> String {
        match parse(xml) {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "xml");
                message
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_stamped_cfdi_reads_to_its_exact_figures() {
        let inv = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(inv.uuid, "5F3C2A1E-9B7D-4E2F-8A61-0C4D2B7E9F10");
        assert_eq!(inv.issuer_rfc, "DAN980312AB1");
        assert_eq!(
            inv.issuer_name,
            "DISTRIBUIDORA AUTOPARTES DEL NORTE & ASOCIADOS"
        );
        assert_eq!(inv.receiver_rfc, "RSE010101AB2");
        assert_eq!(inv.series.as_deref(), Some("FA"));
        assert_eq!(inv.folio.as_deref(), Some("10234"));
        assert_eq!(inv.issued_at, "2025-03-14T10:22:31");
        assert_eq!(inv.currency, "MXN");
        assert_eq!(inv.exchange_rate, Some(Decimal::ONE));
        assert_eq!(inv.subtotal_cents, 413_003);
        assert_eq!(inv.discount_cents, 13_003);
        assert_eq!(inv.total_cents, 464_000);
        // The Addenda's `Concepto` is not a line.
        assert_eq!(inv.concepts.len(), 3);
        assert_eq!(
            inv.concepts[0],
            Concept {
                supplier_sku: Some("BRK-D1234".into()),
                description: "Balata delantera cerámica".into(),
                sat_product_key: "25174004".into(),
                sat_unit_key: Some("H87".into()),
                quantity: Decimal::from(10),
                unit_price_cents: 25_000,
                amount_cents: 250_000,
                discount_cents: 10_000,
                iva_rate: Some(dec("0.160000")),
            }
        );
        // Six-decimal unit values round to centavos: 33.333333 → 33.33, 255.005 → 255.01 (half
        // away from zero, not to even).
        assert_eq!(inv.concepts[1].unit_price_cents, 3_333);
        assert_eq!(inv.concepts[1].discount_cents, 0);
        assert_eq!(inv.concepts[2].unit_price_cents, 25_501);
        assert_eq!(inv.concepts[2].supplier_sku, None);
        assert_eq!(inv.concepts[2].description, "Bujía  de iridio \"IX\"");
        // The document's own tax total (8 % here) never lands on a concept.
        assert!(inv.concepts.iter().all(|c| c.iva_rate == Some(dec("0.16"))));
        let lines: i64 = inv
            .concepts
            .iter()
            .map(|c| c.amount_cents - c.discount_cents)
            .sum();
        assert_eq!(lines, inv.subtotal_cents - inv.discount_cents);
    }

    #[test]
    fn an_escaped_ampersand_in_a_name_is_unescaped() {
        let inv = parse(SAMPLE.as_bytes()).unwrap();
        assert!(inv.issuer_name.contains(" & "), "{}", inv.issuer_name);
        assert!(!inv.issuer_name.contains("&amp;"));
    }

    #[test]
    fn any_prefix_or_none_reads_the_same() {
        let want = parse(SAMPLE.as_bytes()).unwrap();
        let other = SAMPLE
            .replace("cfdi:", "c4:")
            .replace("xmlns:cfdi=", "xmlns:c4=");
        assert_eq!(parse(other.as_bytes()).unwrap(), want);
        let bare = SAMPLE.replace("cfdi:", "").replace("xmlns:cfdi=", "xmlns=");
        assert_eq!(parse(bare.as_bytes()).unwrap(), want);
    }

    #[test]
    fn a_comprobante_outside_the_cfdi_4_namespace_is_refused() {
        let xml = SAMPLE.replace("http://www.sat.gob.mx/cfd/4\"", "http://example.com/cfd\"");
        assert!(refused(xml.as_bytes()).contains("namespace"));
    }

    #[test]
    fn a_doctype_with_an_external_entity_is_refused() {
        let xml = SAMPLE.replacen(
            "<cfdi:Comprobante",
            "<!DOCTYPE cfdi:Comprobante [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<cfdi:Comprobante",
            1,
        );
        let xml = xml.replace("ASOCIADOS\"", "&xxe;\"");
        assert_eq!(
            refused(xml.as_bytes()),
            "a DOCTYPE is not allowed in a CFDI"
        );
    }

    #[test]
    fn an_entity_that_is_not_predefined_is_refused_in_attributes_and_text() {
        let xml = SAMPLE.replace("ASOCIADOS\"", "&xxe;\"");
        assert!(refused(xml.as_bytes()).contains("&xxe;"));
        let xml = SAMPLE.replace("<cfdi:Addenda>", "<cfdi:Addenda><nota>&lol;</nota>");
        assert!(refused(xml.as_bytes()).contains("&lol;"));
        // Character references are plain text, not entities.
        let xml = SAMPLE.replace("ASOCIADOS\"", "ASOCIADOS &#x41;&#66;\"");
        assert!(parse(xml.as_bytes()).unwrap().issuer_name.ends_with("AB"));
    }

    #[test]
    fn a_malformed_document_is_refused_naming_the_byte() {
        let xml = SAMPLE.replace("</cfdi:Conceptos>", "</cfdi:Concepto>");
        let message = refused(xml.as_bytes());
        assert!(message.starts_with("malformed XML at byte "), "{message}");
        let cut = &SAMPLE.as_bytes()[..SAMPLE.len() / 2];
        assert!(refused(cut).starts_with("malformed XML at byte "));
        let twice = format!(
            "{SAMPLE}{}",
            &SAMPLE[SAMPLE.find("<cfdi:Comprobante").unwrap()..]
        );
        assert!(refused(twice.as_bytes()).contains("second root"));
        assert!(refused(b"").contains("no root"));
        assert!(refused(b"\xff\xfe<").contains("UTF-8"));
    }

    #[test]
    fn twenty_megabytes_are_refused_before_any_parsing() {
        // Not even XML: parsing would call it malformed, so the size message proves it was not
        // parsed.
        let huge = vec![b'<'; 20 * 1024 * 1024];
        let message = refused(&huge);
        assert!(message.contains("larger than 2 MiB"), "{message}");
        let just_over = vec![b' '; MAX_XML_BYTES + 1];
        assert!(refused(&just_over).contains("larger than 2 MiB"));
    }

    #[test]
    fn version_3_3_is_refused() {
        let xml = SAMPLE
            .replace("Version=\"4.0\"", "Version=\"3.3\"")
            .replace("http://www.sat.gob.mx/cfd/4", "http://www.sat.gob.mx/cfd/3");
        assert_eq!(
            refused(xml.as_bytes()),
            "CFDI version 3.3 is not accepted: only CFDI 4.0"
        );
    }

    #[test]
    fn a_credit_note_is_refused_as_not_an_income_invoice() {
        let xml = SAMPLE.replace("TipoDeComprobante=\"I\"", "TipoDeComprobante=\"E\"");
        let message = refused(xml.as_bytes());
        assert!(message.contains("income invoice"), "{message}");
        assert!(message.contains("credit note"), "{message}");
    }

    #[test]
    fn an_unstamped_cfdi_is_refused() {
        let start = SAMPLE.find("<cfdi:Complemento>").unwrap();
        let end = SAMPLE.find("</cfdi:Complemento>").unwrap() + "</cfdi:Complemento>".len();
        let xml = format!("{}{}", &SAMPLE[..start], &SAMPLE[end..]);
        assert_eq!(
            refused(xml.as_bytes()),
            "the CFDI is not stamped: no TimbreFiscalDigital UUID"
        );
        let xml = SAMPLE.replace("UUID=\"5f3c2a1e-9b7d-4e2f-8a61-0c4d2b7e9f10\"", "");
        assert_eq!(
            refused(xml.as_bytes()),
            "the CFDI is not stamped: no TimbreFiscalDigital UUID"
        );
    }

    #[test]
    fn a_missing_attribute_is_named_with_its_concept() {
        let xml = SAMPLE.replace("Cantidad=\"3\" ", "");
        assert_eq!(refused(xml.as_bytes()), "Concepto 2 has no Cantidad");
        let xml = SAMPLE.replace("Cantidad=\"6\"", "Cantidad=\"seis\"");
        assert_eq!(
            refused(xml.as_bytes()),
            "Concepto 3 Cantidad is not a decimal number: \"seis\""
        );
        let xml = SAMPLE.replace("Total=\"4640.00\" ", "");
        assert_eq!(refused(xml.as_bytes()), "Comprobante has no Total");
        let xml = SAMPLE.replace("Rfc=\"DAN980312AB1\" ", "");
        assert_eq!(refused(xml.as_bytes()), "Emisor has no Rfc");
    }

    #[test]
    fn more_than_five_thousand_concepts_are_refused() {
        let one = r#"<cfdi:Concepto ClaveProdServ="25174004" Cantidad="1" Descripcion="x" ValorUnitario="1" Importe="1"/>"#;
        let start = SAMPLE.find("<cfdi:Conceptos>").unwrap() + "<cfdi:Conceptos>".len();
        let end = SAMPLE.find("</cfdi:Conceptos>").unwrap();
        let with = |n: usize| format!("{}{}{}", &SAMPLE[..start], one.repeat(n), &SAMPLE[end..]);
        assert_eq!(
            parse(with(MAX_CONCEPTS).as_bytes()).unwrap().concepts.len(),
            MAX_CONCEPTS
        );
        assert!(refused(with(MAX_CONCEPTS + 1).as_bytes()).contains("more than 5000 Conceptos"));
    }

    fn concept(
        sku: Option<&str>,
        description: &str,
        qty: &str,
        amount: i64,
        discount: i64,
    ) -> Concept {
        Concept {
            supplier_sku: sku.map(str::to_owned),
            description: description.into(),
            sat_product_key: "25174004".into(),
            sat_unit_key: Some("H87".into()),
            quantity: dec(qty),
            unit_price_cents: 0,
            amount_cents: amount,
            discount_cents: discount,
            iva_rate: Some(dec("0.16")),
        }
    }

    fn invoice(concepts: Vec<Concept>) -> SupplierInvoice {
        SupplierInvoice {
            uuid: "5F3C2A1E-9B7D-4E2F-8A61-0C4D2B7E9F10".into(),
            issuer_rfc: "DAN980312AB1".into(),
            issuer_name: "Distribuidora".into(),
            receiver_rfc: "RSE010101AB2".into(),
            series: None,
            folio: None,
            issued_at: "2025-03-14T10:22:31".into(),
            currency: "MXN".into(),
            exchange_rate: None,
            subtotal_cents: 0,
            discount_cents: 0,
            total_cents: 0,
            concepts,
        }
    }

    fn line(
        n: u128,
        supplier_sku: Option<&str>,
        item_sku: &str,
        name: &str,
        open: i64,
        cost: i64,
    ) -> PoLineRef {
        PoLineRef {
            line_id: Uuid::from_u128(n),
            supplier_sku: supplier_sku.map(str::to_owned),
            item_sku: item_sku.into(),
            name: name.into(),
            open_qty: open,
            unit_cost_cents: cost,
        }
    }

    #[test]
    fn the_sample_matches_by_supplier_sku_item_sku_and_accented_description() {
        let inv = parse(SAMPLE.as_bytes()).unwrap();
        let lines = [
            line(1, None, "BUJ-IX", "BUJIA DE IRIDIO \"ix\"", 6, 25_000),
            line(2, None, "ph-3614 ", "Filtro aceite Fram", 3, 3_333),
            line(3, Some(" brk-d1234"), "BAL-001", "Balata", 10, 24_000),
        ];
        let m = match_lines(&inv, &lines);
        let got: Vec<_> = m.iter().map(|m| (m.line_id, m.matched_by)).collect();
        assert_eq!(
            got,
            [
                (Some(Uuid::from_u128(3)), Some(MatchedBy::SupplierSku)),
                (Some(Uuid::from_u128(2)), Some(MatchedBy::ItemSku)),
                (Some(Uuid::from_u128(1)), Some(MatchedBy::Description)),
            ]
        );
        // (2500.00 − 100.00) / 10 = 240.00; 100.00 / 3 = 33.33; (1530.03 − 30.03) / 6 = 250.00.
        assert!(
            m.iter()
                .all(|m| m.qty_mismatch.is_none() && m.price_mismatch.is_none()),
            "{m:?}"
        );
        assert_eq!(m.iter().map(|m| m.quantity).collect::<Vec<_>>(), [10, 3, 6]);
    }

    #[test]
    fn a_description_without_accents_or_extra_spaces_still_matches() {
        let inv = invoice(vec![concept(
            None,
            "  AMORTIGUADOR   Trasero  Gas ",
            "2",
            180_000,
            0,
        )]);
        let lines = [line(
            1,
            None,
            "AMO-1",
            "amortiguador trasero gas",
            2,
            90_000,
        )];
        let m = match_lines(&inv, &lines);
        assert_eq!(m[0].matched_by, Some(MatchedBy::Description));
        let inv = invoice(vec![concept(None, "Bomba de agua Señal Ñ", "1", 100, 0)]);
        let lines = [line(1, None, "BOM-1", "bomba de agua senal n", 1, 100)];
        assert_eq!(
            match_lines(&inv, &lines)[0].line_id,
            Some(Uuid::from_u128(1))
        );
    }

    #[test]
    fn a_description_containing_one_line_name_matches_but_two_do_not() {
        let inv = invoice(vec![concept(
            None,
            "Balata delantera cerámica Brembo P-123",
            "4",
            400_000,
            0,
        )]);
        let one = [line(
            1,
            None,
            "BAL-1",
            "Balata delantera cerámica",
            4,
            100_000,
        )];
        assert_eq!(
            match_lines(&inv, &one)[0].matched_by,
            Some(MatchedBy::Description)
        );
        let two = [
            line(1, None, "BAL-1", "Balata delantera cerámica", 4, 100_000),
            line(2, None, "BAL-2", "balata", 4, 100_000),
        ];
        assert_eq!(match_lines(&inv, &two)[0].line_id, None);
        // A name is matched as whole words: "pin" is not inside "piñón".
        let inv = invoice(vec![concept(None, "Piñón de arranque", "1", 100, 0)]);
        assert_eq!(
            match_lines(&inv, &[line(1, None, "P", "pin", 1, 100)])[0].line_id,
            None
        );
    }

    #[test]
    fn a_concept_nothing_fits_stays_unmatched() {
        let inv = invoice(vec![concept(
            Some("ZZ-9"),
            "Tapón de radiador",
            "1",
            5_000,
            0,
        )]);
        let lines = [line(1, Some("AA-1"), "AA-1", "Filtro de aire", 1, 5_000)];
        let m = match_lines(&inv, &lines);
        assert_eq!(
            m,
            [ConceptMatch {
                concept_index: 0,
                line_id: None,
                matched_by: None,
                quantity: 1,
                qty_mismatch: None,
                price_mismatch: None,
            }]
        );
        assert!(match_lines(&inv, &[]).iter().all(|m| m.line_id.is_none()));
    }

    #[test]
    fn quantity_and_price_mismatches_are_reported() {
        let inv = invoice(vec![
            // 8 invoiced, 10 open; 8 × 120.00 − 10 % = 108.00 a unit against 100.00 ordered.
            concept(Some("A"), "a", "8", 96_000, 9_600),
            // A centavo off after rounding is not a mismatch: 1000.00 / 3 = 333.33 vs 333.34.
            concept(Some("B"), "b", "3", 100_000, 0),
            // Two and a half units never match whole units.
            concept(Some("C"), "c", "2.5", 25_000, 0),
        ]);
        let lines = [
            line(1, Some("a"), "1", "x", 10, 10_000),
            line(2, Some("b"), "2", "y", 3, 33_334),
            line(3, Some("c"), "3", "z", 2, 10_000),
        ];
        let m = match_lines(&inv, &lines);
        assert_eq!(
            m[0].qty_mismatch,
            Some(QtyMismatch {
                invoiced: Decimal::from(8),
                open: 10
            })
        );
        assert_eq!(
            m[0].price_mismatch,
            Some(PriceMismatch {
                invoiced_cents: 10_800,
                ordered_cents: 10_000
            })
        );
        assert_eq!(
            (m[1].qty_mismatch.clone(), m[1].price_mismatch),
            (None, None)
        );
        assert_eq!(m[2].quantity, 2);
        assert_eq!(
            m[2].qty_mismatch,
            Some(QtyMismatch {
                invoiced: dec("2.5"),
                open: 2
            })
        );
        assert_eq!(m[2].price_mismatch, None);
    }

    #[test]
    fn a_line_is_never_matched_twice() {
        let inv = invoice(vec![
            concept(Some("BRK-1"), "Balata", "2", 20_000, 0),
            concept(Some("brk-1"), "Balata", "3", 30_000, 0),
            concept(None, "Balata", "1", 10_000, 0),
        ]);
        let lines = [line(1, Some("BRK-1"), "B1", "Balata", 3, 10_000)];
        let m = match_lines(&inv, &lines);
        let matched: Vec<_> = m.iter().filter(|m| m.line_id.is_some()).collect();
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].concept_index, 0);
        // With two lines of one SKU, the one whose open quantity is the invoiced one is taken.
        let lines = [
            line(1, Some("BRK-1"), "B1", "Balata", 5, 10_000),
            line(2, Some("BRK-1"), "B1", "Balata", 3, 10_000),
        ];
        let m = match_lines(&inv, &lines);
        assert_eq!(m[0].line_id, Some(Uuid::from_u128(1)));
        assert_eq!(m[1].line_id, Some(Uuid::from_u128(2)));
        assert_eq!(m[2].line_id, None);
    }

    #[test]
    fn a_strong_match_is_never_taken_by_an_earlier_weak_one() {
        let inv = invoice(vec![
            concept(None, "Balata", "1", 10_000, 0),
            concept(Some("BRK-1"), "Balata cerámica", "1", 10_000, 0),
        ]);
        let lines = [line(1, Some("BRK-1"), "B1", "Balata", 1, 10_000)];
        let m = match_lines(&inv, &lines);
        assert_eq!(m[0].line_id, None);
        assert_eq!(m[1].matched_by, Some(MatchedBy::SupplierSku));
    }

    #[test]
    fn results_serialise_in_snake_case() {
        let inv = invoice(vec![concept(Some("A"), "a", "2.5", 25_000, 0)]);
        let m = match_lines(&inv, &[line(1, Some("a"), "1", "x", 2, 10_000)]);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json[0]["matched_by"], "supplier_sku");
        assert_eq!(json[0]["qty_mismatch"]["invoiced"], "2.5");
        assert_eq!(json[0]["concept_index"], 0);
    }
}
