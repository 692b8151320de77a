//! Text rules shared by every search backend: how part numbers are normalised, how Spanish text
//! is folded and split, and which words mean the same thing at a Mexican parts counter.

/// A part number without case, spaces or punctuation: `"bp-1234"`, `"BP 1234"` and `"BP.1234"`
/// are all `"BP1234"`.
#[must_use]
pub fn normalize_number(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Lower-cases and strips Spanish accents (`"Bujía"` → `"bujia"`, `"Señal"` → `"senal"`), so a
/// query typed without accents finds accented names, like PostgreSQL's `unaccent`.
#[must_use]
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

/// Words too common to narrow a search.
const STOPWORDS: &[&str] = &[
    "de", "del", "la", "el", "los", "las", "para", "con", "y", "en", "a", "por", "un", "una", "al",
];

/// The words of a query or a document: folded, split on anything not a letter or digit, without
/// stopwords. The result holds only `[a-z0-9]`, so it is safe to splice into a full-text query.
#[must_use]
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Groups of terms that mean the same part at the counter. Each term is folded; a term may be
/// several words.
pub const SYNONYMS: &[&[&str]] = &[
    &["balata", "pastilla", "pastillas de freno", "brake pad"],
    &["amortiguador", "shock", "amortiguadores"],
    &["bujia", "spark plug", "bujias"],
    &["filtro de aceite", "oil filter"],
    &["filtro de aire", "air filter"],
    &["banda", "correa", "belt"],
    &["bomba de agua", "water pump"],
    &["disco", "rotor"],
    &["acumulador", "bateria", "battery"],
    &["radiador", "radiator"],
    &["clutch", "embrague", "kit de clutch"],
    &["foco", "bombilla", "bulb"],
    &["horquilla", "brazo de suspension", "control arm"],
    &["rotula", "ball joint"],
    &["terminal", "tie rod"],
    &["mofle", "silenciador", "muffler"],
    &["empaque", "junta", "gasket"],
    &["marcha", "motor de arranque", "starter"],
    &["alternador", "alternator"],
    &["termostato", "thermostat"],
];

/// The synonyms of the words in `text` that are not already in it, joined by spaces: appended to
/// a part's indexed text so that a search for any term of a group finds the part named with
/// another ("shock" finds "Amortiguador delantero").
#[must_use]
pub fn synonym_expansion(text: &str) -> String {
    let folded = format!(" {} ", words(text).join(" "));
    let mut extra: Vec<&str> = Vec::new();
    for group in SYNONYMS {
        let present = group
            .iter()
            .any(|term| folded.contains(&format!(" {term} ")));
        if present {
            for term in *group {
                if !folded.contains(&format!(" {term} ")) && !extra.contains(term) {
                    extra.push(term);
                }
            }
        }
    }
    extra.join(" ")
}

/// The text a part is found by: its name, description, brand and category, plus the synonyms of
/// what they say.
#[must_use]
pub fn document_text(
    name: &str,
    description: Option<&str>,
    brand: &str,
    category: Option<&str>,
) -> String {
    let mut text = String::with_capacity(128);
    text.push_str(name);
    for extra in [description, Some(brand), category].into_iter().flatten() {
        text.push(' ');
        text.push_str(extra);
    }
    let syn = synonym_expansion(&text);
    if !syn.is_empty() {
        text.push(' ');
        text.push_str(&syn);
    }
    text
}

/// A query split into what each backend needs: its words, and the whole query as one normalised
/// number when it looks like one (has a digit and at least three characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Folded words without stopwords, each `[a-z0-9]+`.
    pub words: Vec<String>,
    /// The query as a part number, `[A-Z0-9]+`.
    pub number: Option<String>,
}

impl ParsedQuery {
    /// Parses a query string. An empty result (no words, no number) matches nothing.
    #[must_use]
    pub fn parse(q: &str) -> Self {
        let number = normalize_number(q);
        let number =
            (number.len() >= 3 && number.chars().any(|c| c.is_ascii_digit())).then_some(number);
        Self {
            words: words(q),
            number,
        }
    }

    /// Whether the query has nothing to match.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.number.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_written_three_ways_normalise_to_one() {
        assert_eq!(normalize_number("BP-1234"), "BP1234");
        assert_eq!(normalize_number("bp1234"), "BP1234");
        assert_eq!(normalize_number("BP 1234"), "BP1234");
        assert_eq!(normalize_number(" bp.12/34 "), "BP1234");
    }

    #[test]
    fn accents_and_case_fold_away_and_stopwords_drop() {
        assert_eq!(words("Bujía de Iridio"), vec!["bujia", "iridio"]);
        assert_eq!(fold("SEÑAL"), "senal");
    }

    #[test]
    fn injection_looking_queries_become_plain_words() {
        let q = ParsedQuery::parse("'; DROP TABLE catalog_parts; -- \"a\" OR 1=1 NEAR(x*)");
        for w in &q.words {
            assert!(w.chars().all(|c| c.is_ascii_alphanumeric()), "{w}");
        }
        assert!(q.words.contains(&"drop".to_owned()));
    }

    #[test]
    fn a_query_with_a_digit_is_also_a_number() {
        assert_eq!(
            ParsedQuery::parse("bp 1234").number.as_deref(),
            Some("BP1234")
        );
        assert_eq!(ParsedQuery::parse("balata").number, None);
        assert_eq!(ParsedQuery::parse("a1").number, None);
        assert!(ParsedQuery::parse("  -- ").is_empty());
    }

    #[test]
    fn a_part_named_with_one_synonym_is_indexed_with_the_others() {
        let doc = document_text("Amortiguador delantero", None, "Monroe", Some("Suspensión"));
        assert!(doc.contains("shock"), "{doc}");
        let doc = document_text("Balata delantera cerámica", None, "Brembo", None);
        assert!(doc.contains("pastilla"), "{doc}");
        assert!(doc.contains("brake pad"), "{doc}");
        let plain = document_text("Tapón de radiador", None, "Gonher", None);
        assert!(plain.contains("radiator"));
    }
}
