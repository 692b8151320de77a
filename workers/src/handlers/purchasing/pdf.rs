//! A purchase order as a PDF for the supplier: a header with both parties, a table of lines that
//! runs onto as many pages as it needs, and the totals.
//!
//! The page uses Helvetica, one of the fonts every PDF reader has, so nothing is embedded and the
//! file stays a few kilobytes a page. Its text is WinAnsi-encoded, which holds every Spanish letter
//! (ñ, á, ü, ¿); a character outside it prints as `?`. Widths of the standard font metrics place
//! right-aligned amounts and cut text that would run into the next column.

use entities::rules::money::Money;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// What a purchase-order PDF shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoDocument {
    /// Our business's name, at the top.
    pub business_name: String,
    /// Our RFC, when set.
    pub business_rfc: Option<String>,
    /// The supplier the order goes to.
    pub supplier_name: String,
    /// The supplier's RFC, when known.
    pub supplier_rfc: Option<String>,
    /// The order's number, e.g. `OC-000123`.
    pub number: String,
    /// The day it is issued, as it should print (`2025-03-14`).
    pub issued_on: String,
    /// The currency of every amount, e.g. `MXN`.
    pub currency: String,
    /// The lines, in order.
    pub lines: Vec<PoDocumentLine>,
    /// Sum of the lines before IVA, in centavos.
    pub subtotal_cents: i64,
    /// IVA, in centavos.
    pub iva_cents: i64,
    /// What the order costs with IVA, in centavos.
    pub total_cents: i64,
    /// Free text for the supplier (delivery hours, references); new lines are kept.
    pub notes: Option<String>,
}

/// One line of a [`PoDocument`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoDocumentLine {
    /// Our SKU.
    pub sku: String,
    /// The supplier's part number, when known: what the supplier looks the part up by.
    pub supplier_sku: Option<String>,
    /// The item's name.
    pub name: String,
    /// Units ordered.
    pub quantity: i64,
    /// Agreed cost of one unit before IVA, in centavos.
    pub unit_cost_cents: i64,
    /// quantity × unit cost, in centavos.
    pub amount_cents: i64,
}

/// US Letter, the size Mexican offices print on, in points.
const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const LEFT: f32 = 40.0;
const RIGHT: f32 = PAGE_W - 40.0;
const TOP: f32 = PAGE_H - 40.0;
/// Content stops here; the footer sits below it.
const BOTTOM: f32 = 50.0;
const FOOTER_Y: f32 = 28.0;

/// Table rows: 8-point text, 10 points a line, a description wraps to at most three lines.
const ROW_SIZE: f32 = 8.0;
const ROW_LEADING: f32 = 10.0;
const ROW_PAD: f32 = 3.0;
const MAX_NAME_LINES: usize = 3;
const HEADER_ROW_H: f32 = 16.0;
/// Space kept between a cell's text and the next column.
const GAP: f32 = 6.0;

/// The table's columns: where each starts and how wide it is; numbers are right-aligned.
const COL_SKU: (f32, f32) = (LEFT, 80.0);
const COL_SUPPLIER_SKU: (f32, f32) = (LEFT + 80.0, 80.0);
const COL_NAME: (f32, f32) = (LEFT + 160.0, 172.0);
const COL_QTY: (f32, f32) = (LEFT + 332.0, 40.0);
const COL_COST: (f32, f32) = (LEFT + 372.0, 75.0);
const COL_AMOUNT: (f32, f32) = (LEFT + 447.0, 85.0);

/// The two faces of the one font the document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

impl Face {
    fn resource(self) -> Name<'static> {
        match self {
            Self::Regular => Name(b"F1"),
            Self::Bold => Name(b"F2"),
        }
    }
}

/// Renders `doc` as a PDF file.
#[must_use]
pub fn render(doc: &PoDocument) -> Vec<u8> {
    let mut layout = Layout::new(doc);
    layout.first_header();
    layout.table_header();
    for line in &doc.lines {
        layout.row(line);
    }
    layout.totals();
    layout.notes();
    let pages = layout.finish();
    assemble(doc, pages)
}

/// Writes the file: catalog, page tree, the two fonts, document info, then each page and its
/// content stream.
fn assemble(doc: &PoDocument, pages: Vec<Content>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_refs: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let n = i32::try_from(i).unwrap_or(i32::MAX / 2 - 6);
            (Ref::new(6 + 2 * n), Ref::new(7 + 2 * n))
        })
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(i32::try_from(page_refs.len()).unwrap_or(i32::MAX));
    for (id, face) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(face.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let title = format!("Orden de compra {}", doc.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("Nexus"));
    for ((page_id, content_id), content) in page_refs.iter().zip(pages) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(Face::Regular.resource(), regular)
            .pair(Face::Bold.resource(), bold);
        page.finish();
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// Places the document on pages top to bottom, opening a page when the next block does not fit.
struct Layout<'d> {
    doc: &'d PoDocument,
    done: Vec<Content>,
    page: Content,
    /// Where the next block starts, in points from the bottom.
    y: f32,
    /// Rows drawn so far, for the alternate shading.
    rows: usize,
}

impl<'d> Layout<'d> {
    fn new(doc: &'d PoDocument) -> Self {
        Self {
            doc,
            done: Vec::new(),
            page: Content::new(),
            y: TOP,
            rows: 0,
        }
    }

    /// Opens a page when `height` does not fit; a page opened inside the table repeats the
    /// table's header, so every page can be read alone.
    fn ensure(&mut self, height: f32, in_table: bool) {
        if self.y - height >= BOTTOM {
            return;
        }
        let full = std::mem::replace(&mut self.page, Content::new());
        self.done.push(full);
        self.y = TOP;
        self.continued_header();
        if in_table {
            self.table_header();
        }
    }

    fn first_header(&mut self) {
        let doc = self.doc;
        // The title block on the right is narrow; our name gets the rest of the line.
        let title_w = 170.0;
        let name_w = RIGHT - LEFT - title_w - GAP;
        text(
            &mut self.page,
            Face::Bold,
            14.0,
            LEFT,
            TOP - 14.0,
            &fit(&doc.business_name, Face::Bold, 14.0, name_w),
        );
        if let Some(rfc) = &doc.business_rfc {
            text(
                &mut self.page,
                Face::Regular,
                9.0,
                LEFT,
                TOP - 28.0,
                &fit(&format!("RFC: {rfc}"), Face::Regular, 9.0, name_w),
            );
        }
        let right = |page: &mut Content, face: Face, size: f32, y: f32, s: &str| {
            let bytes = fit(s, face, size, title_w);
            text(
                page,
                face,
                size,
                RIGHT - width(&bytes, face, size),
                y,
                &bytes,
            );
        };
        right(
            &mut self.page,
            Face::Bold,
            14.0,
            TOP - 14.0,
            "ORDEN DE COMPRA",
        );
        right(&mut self.page, Face::Bold, 11.0, TOP - 28.0, &doc.number);
        right(
            &mut self.page,
            Face::Regular,
            9.0,
            TOP - 41.0,
            &format!("Fecha: {}", doc.issued_on),
        );
        right(
            &mut self.page,
            Face::Regular,
            9.0,
            TOP - 53.0,
            &format!("Moneda: {}", doc.currency),
        );

        let y = TOP - 64.0;
        rule(&mut self.page, LEFT, RIGHT, y, 0.5);
        text(
            &mut self.page,
            Face::Bold,
            8.0,
            LEFT,
            y - 12.0,
            &win_ansi("PROVEEDOR"),
        );
        let full = RIGHT - LEFT;
        text(
            &mut self.page,
            Face::Bold,
            11.0,
            LEFT,
            y - 26.0,
            &fit(&doc.supplier_name, Face::Bold, 11.0, full),
        );
        if let Some(rfc) = &doc.supplier_rfc {
            text(
                &mut self.page,
                Face::Regular,
                9.0,
                LEFT,
                y - 38.0,
                &fit(&format!("RFC: {rfc}"), Face::Regular, 9.0, full),
            );
        }
        self.y = y - 50.0;
    }

    fn continued_header(&mut self) {
        let doc = self.doc;
        let half = (RIGHT - LEFT) / 2.0 - GAP;
        text(
            &mut self.page,
            Face::Bold,
            10.0,
            LEFT,
            TOP - 10.0,
            &fit(&doc.business_name, Face::Bold, 10.0, half),
        );
        let right = fit(
            &format!("Orden de compra {} (continuación)", doc.number),
            Face::Regular,
            9.0,
            half,
        );
        text(
            &mut self.page,
            Face::Regular,
            9.0,
            RIGHT - width(&right, Face::Regular, 9.0),
            TOP - 10.0,
            &right,
        );
        self.y = TOP - 22.0;
    }

    fn table_header(&mut self) {
        let top = self.y;
        let page = &mut self.page;
        page.set_fill_gray(0.88);
        page.rect(LEFT, top - HEADER_ROW_H, RIGHT - LEFT, HEADER_ROW_H);
        page.fill_nonzero();
        page.set_fill_gray(0.0);
        let base = top - 11.0;
        for (col, label) in [
            (COL_SKU, "Clave"),
            (COL_SUPPLIER_SKU, "Clave proveedor"),
            (COL_NAME, "Descripción"),
        ] {
            text(
                page,
                Face::Bold,
                ROW_SIZE,
                col.0 + 2.0,
                base,
                &fit(label, Face::Bold, ROW_SIZE, col.1 - GAP),
            );
        }
        for (col, label) in [
            (COL_QTY, "Cant."),
            (COL_COST, "Costo unitario"),
            (COL_AMOUNT, "Importe"),
        ] {
            right_in(page, Face::Bold, col, base, &win_ansi(label));
        }
        self.y = top - HEADER_ROW_H;
    }

    fn row(&mut self, line: &PoDocumentLine) {
        let name = wrap(
            &line.name,
            Face::Regular,
            ROW_SIZE,
            COL_NAME.1 - GAP,
            MAX_NAME_LINES,
        );
        let lines = name.len().max(1);
        let height = ROW_LEADING * lines as f32 + ROW_PAD;
        self.ensure(height, true);
        let top = self.y;
        let page = &mut self.page;
        if self.rows % 2 == 1 {
            page.set_fill_gray(0.96);
            page.rect(LEFT, top - height, RIGHT - LEFT, height);
            page.fill_nonzero();
            page.set_fill_gray(0.0);
        }
        let base = top - ROW_LEADING + 1.0;
        let cell = |s: &str, col: (f32, f32)| fit(s, Face::Regular, ROW_SIZE, col.1 - GAP);
        text(
            page,
            Face::Regular,
            ROW_SIZE,
            COL_SKU.0 + 2.0,
            base,
            &cell(&line.sku, COL_SKU),
        );
        if let Some(sku) = &line.supplier_sku {
            text(
                page,
                Face::Regular,
                ROW_SIZE,
                COL_SUPPLIER_SKU.0 + 2.0,
                base,
                &cell(sku, COL_SUPPLIER_SKU),
            );
        }
        for (i, l) in name.iter().enumerate() {
            text(
                page,
                Face::Regular,
                ROW_SIZE,
                COL_NAME.0 + 2.0,
                base - ROW_LEADING * i as f32,
                l,
            );
        }
        right_in(
            page,
            Face::Regular,
            COL_QTY,
            base,
            &win_ansi(&grouped_units(line.quantity)),
        );
        right_in(
            page,
            Face::Regular,
            COL_COST,
            base,
            &win_ansi(&money(line.unit_cost_cents)),
        );
        right_in(
            page,
            Face::Regular,
            COL_AMOUNT,
            base,
            &win_ansi(&money(line.amount_cents)),
        );
        self.y = top - height;
        self.rows += 1;
    }

    fn totals(&mut self) {
        // Three rows of 14 points and the rule above them stay together on one page.
        self.ensure(56.0, false);
        let doc = self.doc;
        let y = self.y - 4.0;
        rule(&mut self.page, COL_COST.0, RIGHT, y, 0.5);
        let total_label = format!("Total {}", doc.currency);
        let rows = [
            (Face::Regular, "Subtotal", doc.subtotal_cents),
            (Face::Regular, "IVA", doc.iva_cents),
            (Face::Bold, total_label.as_str(), doc.total_cents),
        ];
        for (i, (face, label, cents)) in rows.into_iter().enumerate() {
            let base = y - 13.0 - 14.0 * i as f32;
            let size = if face == Face::Bold { 10.0 } else { 9.0 };
            let label = win_ansi(label);
            text(
                &mut self.page,
                face,
                size,
                COL_COST.0 + COL_COST.1 - GAP - width(&label, face, size),
                base,
                &label,
            );
            let amount = win_ansi(&money(cents));
            text(
                &mut self.page,
                face,
                size,
                RIGHT - 2.0 - width(&amount, face, size),
                base,
                &amount,
            );
        }
        self.y = y - 13.0 - 14.0 * 3.0;
    }

    fn notes(&mut self) {
        let Some(notes) = self.doc.notes.as_deref().filter(|n| !n.trim().is_empty()) else {
            return;
        };
        self.ensure(32.0, false);
        self.y -= 8.0;
        text(
            &mut self.page,
            Face::Bold,
            9.0,
            LEFT,
            self.y - 9.0,
            &win_ansi("Notas"),
        );
        self.y -= 12.0;
        for paragraph in notes.trim().lines() {
            for l in wrap(paragraph, Face::Regular, 9.0, RIGHT - LEFT, usize::MAX) {
                self.ensure(12.0, false);
                text(&mut self.page, Face::Regular, 9.0, LEFT, self.y - 9.0, &l);
                self.y -= 12.0;
            }
        }
    }

    /// The pages, each with its footer: the order's number and "page i of n", since the pages of
    /// a long order get separated on a desk.
    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.page);
        let n = self.done.len();
        for (i, page) in self.done.iter_mut().enumerate() {
            let footer = win_ansi(&format!(
                "Orden de compra {} · Página {} de {n}",
                self.doc.number,
                i + 1
            ));
            page.set_fill_gray(0.35);
            text(
                page,
                Face::Regular,
                8.0,
                (PAGE_W - width(&footer, Face::Regular, 8.0)) / 2.0,
                FOOTER_Y,
                &footer,
            );
            page.set_fill_gray(0.0);
        }
        self.done
    }
}

/// One run of WinAnsi bytes at a baseline.
fn text(page: &mut Content, face: Face, size: f32, x: f32, y: f32, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    page.begin_text();
    page.set_font(face.resource(), size);
    page.next_line(x, y);
    page.show(Str(bytes));
    page.end_text();
}

/// Text right-aligned in a table column, cut to fit it.
fn right_in(page: &mut Content, face: Face, col: (f32, f32), y: f32, bytes: &[u8]) {
    let bytes = cut(bytes, face, ROW_SIZE, col.1 - GAP);
    let x = col.0 + col.1 - 2.0 - width(&bytes, face, ROW_SIZE);
    text(page, face, ROW_SIZE, x, y, &bytes);
}

fn rule(page: &mut Content, from: f32, to: f32, y: f32, line_width: f32) {
    page.set_line_width(line_width);
    page.move_to(from, y);
    page.line_to(to, y);
    page.stroke();
}

/// An amount as people read it: `1,234.50`.
fn money(cents: i64) -> String {
    Money(cents).grouped()
}

/// Whole units with thousands grouped: `1,200`.
fn grouped_units(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The WinAnsi byte of each character: ASCII and Latin-1 letters as themselves, the typographic
/// marks of 0x80–0x9F at their places, spacing as a space, anything else as `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' | '\u{a0}'..='\u{ff}' => u8::try_from(c).unwrap_or(b'?'),
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            c if c.is_whitespace() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Widths of ASCII 32–126 in thousandths of the font size, from Adobe's Helvetica metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space–/
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0–?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @–O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P–_
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `–o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p–~
];

/// The same for Helvetica-Bold.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
    278, // space–/
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0–?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @–O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P–_
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `–o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p–~
];

/// A WinAnsi letter with a mark is as wide as the letter without it; other marks above 0x7F are
/// taken as wide as the widest glyph, so a cell never overflows.
fn unaccented(b: u8) -> Option<u8> {
    Some(match b {
        0xC0..=0xC5 => b'A',
        0xC7 => b'C',
        0xC8..=0xCB => b'E',
        0xCC..=0xCF => b'I',
        0xD1 => b'N',
        0xD2..=0xD6 | 0xD8 => b'O',
        0xD9..=0xDC => b'U',
        0xDD | 0x9F => b'Y',
        0xE0..=0xE5 => b'a',
        0xE7 => b'c',
        0xE8..=0xEB => b'e',
        0xEC..=0xEF => b'i',
        0xF1 => b'n',
        0xF2..=0xF6 | 0xF8 => b'o',
        0xF9..=0xFC => b'u',
        0xFD | 0xFF => b'y',
        0x8A => b'S',
        0x9A => b's',
        0x8E => b'Z',
        0x9E => b'z',
        _ => return None,
    })
}

/// The width of WinAnsi text, in points.
fn width(bytes: &[u8], face: Face, size: f32) -> f32 {
    let table = match face {
        Face::Regular => &HELVETICA,
        Face::Bold => &HELVETICA_BOLD,
    };
    let units: u32 = bytes
        .iter()
        .map(|&b| {
            let b = unaccented(b).unwrap_or(b);
            match b {
                32..=126 => u32::from(table[usize::from(b - 32)]),
                _ => 1000,
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// The ellipsis, in WinAnsi.
const ELLIPSIS: u8 = 0x85;

/// WinAnsi bytes cut to `max` points, ending in an ellipsis when something was cut.
fn cut(bytes: &[u8], face: Face, size: f32, max: f32) -> Vec<u8> {
    if width(bytes, face, size) <= max {
        bytes.to_vec()
    } else {
        ellipsize(bytes, face, size, max)
    }
}

/// As much of `bytes` as fits in `max` points with an ellipsis after it.
fn ellipsize(bytes: &[u8], face: Face, size: f32, max: f32) -> Vec<u8> {
    let room = max - width(&[ELLIPSIS], face, size);
    let mut out = bytes.to_vec();
    while !out.is_empty() && width(&out, face, size) > room {
        out.pop();
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    out.push(ELLIPSIS);
    out
}

/// Text encoded and cut to `max` points.
fn fit(text: &str, face: Face, size: f32, max: f32) -> Vec<u8> {
    cut(&win_ansi(text.trim()), face, size, max)
}

/// Text broken into lines of at most `max` points at spaces (a word longer than a line is split),
/// at most `max_lines` of them, the last one cut with an ellipsis when text remains.
fn wrap(text: &str, face: Face, size: f32, max: f32, max_lines: usize) -> Vec<Vec<u8>> {
    let bytes = win_ansi(text.trim());
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let mut candidate = current.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if width(&candidate, face, size) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut rest = word;
        while width(rest, face, size) > max {
            let mut take = rest.len();
            while take > 1 && width(&rest[..take], face, size) > max {
                take -= 1;
            }
            lines.push(rest[..take].to_vec());
            rest = &rest[take..];
        }
        current = rest.to_vec();
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = ellipsize(last, face, size, max);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(lines: usize) -> PoDocument {
        let lines: Vec<PoDocumentLine> = (1..=lines)
            .map(|i| {
                let quantity = i64::try_from(i).unwrap();
                PoDocumentLine {
                    sku: format!("SKU-{i:04}"),
                    supplier_sku: (i % 2 == 0).then(|| format!("PRV-{i:04}")),
                    name: format!("Balata delantera cerámica para Nissan Tsuru número {i}"),
                    quantity,
                    unit_cost_cents: 123_450,
                    amount_cents: 123_450 * quantity,
                }
            })
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.amount_cents).sum();
        PoDocument {
            business_name: "Refaccionaria El Señor de los Frenos".into(),
            business_rfc: Some("RSE010101AB2".into()),
            supplier_name: "Distribuidora Autopartes del Norte & Asociados, S.A. de C.V.".into(),
            supplier_rfc: Some("DAN980312AB1".into()),
            number: "OC-000123".into(),
            issued_on: "2025-03-14".into(),
            currency: "MXN".into(),
            lines,
            subtotal_cents: subtotal,
            iva_cents: subtotal * 16 / 100,
            total_cents: subtotal * 116 / 100,
            notes: Some("Entregar de 9:00 a 14:00 en el almacén de Monterrey.\nFacturar con uso G01; mencionar la orden OC-000123.".into()),
        }
    }

    /// Page objects, not the page tree (`/Type /Pages`).
    fn page_count(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
            .count()
    }

    /// WinAnsi text as pdf-writer writes it in a content stream: a literal string when ASCII,
    /// upper-case hex otherwise.
    fn shown(text: &str) -> Vec<u8> {
        let bytes = win_ansi(text);
        if bytes.is_ascii() {
            [b"(", bytes.as_slice(), b")"].concat()
        } else {
            let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            format!("<{hex}>").into_bytes()
        }
    }

    /// The bytes between each `stream` and `endstream` keyword.
    fn content_streams(pdf: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = pdf;
        while let Some(start) = find(rest, b"stream\n") {
            let body = &rest[start + 7..];
            let Some(end) = find(body, b"endstream") else {
                break;
            };
            out.push(&body[..end]);
            rest = &body[end + 9..];
        }
        out
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_purchase_order_is_a_pdf_that_says_what_was_ordered() {
        let mut doc = document(2);
        doc.lines[0].name = "Señor Bujía ñandú".into();
        let pdf = render(&doc);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF"));
        assert_eq!(page_count(&pdf), 1);
        assert!(contains(&pdf, b"/BaseFont /Helvetica"));
        assert!(contains(&pdf, b"/Encoding /WinAnsiEncoding"));
        for s in [
            "OC-000123",
            "SKU-0001",
            "PRV-0002",
            "Señor Bujía ñandú",
            "1,234.50",
            "2,469.00",
            "Total MXN",
        ] {
            assert!(contains(&pdf, &shown(s)), "{s} is not in the content");
        }
        // The check above reads the content streams; pdftotext (poppler-utils) also proves a
        // reader decodes the encoding. It runs only where pdftotext is installed (it is on the
        // build machine, `apt-get install poppler-utils`), and says so when it is not.
        match pdftotext(&pdf) {
            Some(text) => {
                for s in [
                    "ORDEN DE COMPRA",
                    "OC-000123",
                    "SKU-0001",
                    "PRV-0002",
                    "Señor Bujía ñandú",
                    "El Señor de los Frenos",
                    "Autopartes del Norte & Asociados",
                    "1,234.50",
                    "Página 1 de 1",
                    "almacén de Monterrey",
                    "Total MXN",
                ] {
                    assert!(text.contains(s), "{s:?} is not in the text:\n{text}");
                }
            }
            None => eprintln!("pdftotext is not installed: the PDF's text was not extracted"),
        }
    }

    /// The text of a PDF by poppler's pdftotext, or `None` when it is not installed.
    fn pdftotext(pdf: &[u8]) -> Option<String> {
        let path = std::env::temp_dir().join(format!("nexus-po-{}.pdf", std::process::id()));
        std::fs::write(&path, pdf).unwrap();
        let out = std::process::Command::new("pdftotext")
            .arg("-enc")
            .arg("UTF-8")
            .arg(&path)
            .arg("-")
            .output();
        let _ = std::fs::remove_file(&path);
        let out = out.ok()?;
        assert!(
            out.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8(out.stdout).unwrap())
    }

    #[test]
    fn three_hundred_lines_run_onto_more_pages_and_none_is_lost() {
        let doc = document(300);
        let pdf = render(&doc);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF"));
        let pages = page_count(&pdf);
        assert!(pages > 1, "{pages} page(s)");
        for i in 1..=300 {
            let sku = shown(&format!("SKU-{i:04}"));
            let times = pdf
                .windows(sku.len())
                .filter(|w| *w == sku.as_slice())
                .count();
            assert_eq!(times, 1, "line {i} printed {times} times");
        }
        let last = shown(&format!(
            "Orden de compra OC-000123 · Página {pages} de {pages}"
        ));
        assert!(contains(&pdf, &last));
        // Every page with lines on it has the table's header, the continued ones too.
        let header = shown("Clave proveedor");
        let with_rows = content_streams(&pdf)
            .into_iter()
            .filter(|s| contains(s, b"(SKU-"))
            .collect::<Vec<_>>();
        assert!(with_rows.len() > 1);
        assert!(with_rows.iter().all(|s| contains(s, &header)));
    }

    #[test]
    fn characters_outside_win_ansi_print_as_question_marks() {
        assert_eq!(
            win_ansi("Señor ñ Á € “x” 中\t"),
            b"Se\xf1or \xf1 \xc1 \x80 \x93x\x94 ? "
        );
    }

    #[test]
    fn amounts_and_quantities_group_thousands() {
        assert_eq!(money(123_450), "1,234.50");
        assert_eq!(money(5), "0.05");
        assert_eq!(grouped_units(1_200), "1,200");
        assert_eq!(grouped_units(7), "7");
    }

    #[test]
    fn long_text_wraps_within_its_column_and_ends_in_an_ellipsis() {
        let long = "Amortiguador delantero izquierdo de gas presurizado para Nissan Tsuru III 1992-2017 y Sentra B13, marca Monroe, número de parte 71234-XYZ";
        let lines = wrap(long, Face::Regular, ROW_SIZE, 166.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(
            lines
                .iter()
                .all(|l| width(l, Face::Regular, ROW_SIZE) <= 166.0)
        );
        assert_eq!(lines[2].last(), Some(&ELLIPSIS));
        let unbroken = wrap(&"X".repeat(200), Face::Regular, ROW_SIZE, 50.0, 2);
        assert!(
            unbroken
                .iter()
                .all(|l| width(l, Face::Regular, ROW_SIZE) <= 50.0)
        );
        let sku = fit(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789",
            Face::Regular,
            ROW_SIZE,
            74.0,
        );
        assert!(width(&sku, Face::Regular, ROW_SIZE) <= 74.0);
        assert_eq!(sku.last(), Some(&ELLIPSIS));
    }

    #[test]
    fn an_order_without_lines_or_notes_still_renders() {
        let mut doc = document(0);
        doc.notes = None;
        doc.business_rfc = None;
        doc.supplier_rfc = None;
        let pdf = render(&doc);
        assert!(pdf.starts_with(b"%PDF-") && pdf.ends_with(b"%%EOF"));
        assert_eq!(page_count(&pdf), 1);
    }
}
