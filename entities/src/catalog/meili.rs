//! Catalog search on Meilisearch: the read side only (the sync that fills the index is a worker's
//! job). Every failure is [`SearchError::Unavailable`], so the API falls back to SQL.

use std::time::Duration;

use meilisearch_sdk::client::Client;
use meilisearch_sdk::search::{MatchingStrategies, SearchResults};
use serde::Deserialize;

use super::search::{
    CatalogSearch, ResolvedQuery, SearchError, SearchFuture, SearchHit, SearchPage,
};
use super::text::ParsedQuery;

/// The uid of the index that serves searches: `<prefix>parts`. A reindex builds
/// `<prefix>parts_<timestamp>` and swaps it in under this name.
#[must_use]
pub fn live_index_uid(prefix: &str) -> String {
    format!("{prefix}parts")
}

/// The attributes a search hit needs; the rest of a document stays on the server.
const RETRIEVE: [&str; 8] = [
    "id",
    "number",
    "name",
    "brand_id",
    "brand",
    "category_id",
    "category",
    "retail_price_cents",
];

/// A Meilisearch backend over the live index.
#[derive(Debug, Clone)]
pub struct MeiliSearch {
    client: Client,
    index_uid: String,
    timeout: Duration,
}

impl MeiliSearch {
    /// A backend on `url`, searching `index_uid`; a search not answered within `timeout` counts
    /// as the backend being unavailable (the caller falls back to SQL rather than keep a
    /// customer waiting).
    ///
    /// # Errors
    /// When the key cannot go in an HTTP header.
    pub fn new(
        url: &str,
        api_key: Option<&str>,
        index_uid: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, meilisearch_sdk::errors::Error> {
        Ok(Self {
            client: Client::new(url, api_key)?,
            index_uid: index_uid.into(),
            timeout,
        })
    }
}

/// The `q` sent to Meilisearch: the query's folded words, then, when the whole query reads as a
/// part number, that number normalised.
///
/// Why the number goes last: Meilisearch's default `matchingStrategy` (`last`, set explicitly)
/// first returns documents matching every term and then drops terms from the end. "BP-1234" is
/// tokenised into `bp` and `1234`, which find the printed number in `text`; the trailing
/// `bp1234` finds `number_norm` and interchange `numbers`, which hold only the normalised form.
/// For a query that is words and a number ("balata BP-1234") the normalised whole matches
/// nothing and is the first term dropped, leaving the words.
#[must_use]
pub fn meili_q(text: &ParsedQuery) -> String {
    let mut q = text.words.join(" ");
    if let Some(n) = &text.number {
        let n = n.to_ascii_lowercase();
        // "bp1234" typed as is: the one word already is the normalised number.
        if text.words.len() != 1 || text.words[0] != n {
            if !q.is_empty() {
                q.push(' ');
            }
            q.push_str(&n);
        }
    }
    q
}

/// The Meilisearch filter expression of a query's filters (`None` without filters). Only
/// integers are spliced in, so nothing a user types reaches the filter syntax.
#[must_use]
pub fn meili_filter(query: &ResolvedQuery) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(ids) = &query.vehicle_ids {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        parts.push(format!("vehicle_ids IN [{}]", ids.join(", ")));
    }
    if let Some(b) = query.brand_id {
        parts.push(format!("brand_id = {b}"));
    }
    if let Some(c) = query.category_id {
        parts.push(format!("category_id = {c}"));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

#[derive(Debug, Deserialize)]
struct MeiliHit {
    id: i64,
    number: String,
    name: String,
    brand_id: i32,
    brand: String,
    category_id: Option<i32>,
    category: Option<String>,
    retail_price_cents: Option<i64>,
}

impl From<MeiliHit> for SearchHit {
    fn from(h: MeiliHit) -> Self {
        Self {
            id: h.id,
            number: h.number,
            name: h.name,
            brand_id: h.brand_id,
            brand: h.brand,
            category_id: h.category_id,
            category: h.category,
            retail_price_cents: h.retail_price_cents,
        }
    }
}

impl MeiliSearch {
    async fn run(&self, query: &ResolvedQuery) -> Result<SearchPage, SearchError> {
        let page = query.page;
        let empty = SearchPage::empty(page);
        // Same answers as the SQL backend: a filter that matches no vehicle, or a query with
        // nothing to match, finds nothing.
        if query.vehicle_ids.as_ref().is_some_and(Vec::is_empty)
            || query.text.as_ref().is_some_and(ParsedQuery::is_empty)
        {
            return Ok(empty);
        }
        if query.part_ids.is_some() {
            // The index has no business's stock in it; the SQL backends take the list.
            return Err(SearchError::Unavailable(
                "a search within listed parts is answered by SQL".into(),
            ));
        }
        let q = query.text.as_ref().map(meili_q).unwrap_or_default();
        let filter = meili_filter(query);
        let offset = usize::try_from((page.page.saturating_sub(1)).saturating_mul(page.per_page))
            .unwrap_or(usize::MAX);
        let limit = usize::try_from(page.per_page).unwrap_or(usize::MAX);
        let index = self.client.index(&self.index_uid);
        let mut search = index.search();
        search
            .with_query(&q)
            .with_matching_strategy(MatchingStrategies::LAST)
            .with_offset(offset)
            .with_limit(limit)
            .with_attributes_to_retrieve(meilisearch_sdk::search::Selectors::Some(&RETRIEVE));
        if let Some(f) = &filter {
            search.with_filter(f);
        }
        let results: SearchResults<MeiliHit> =
            match tokio::time::timeout(self.timeout, search.execute()).await {
                Err(_) => {
                    return Err(SearchError::Unavailable(format!(
                        "meilisearch did not answer within {} ms",
                        self.timeout.as_millis()
                    )));
                }
                // Connection refused, 5xx, a missing index, a bad key or a filter the index does
                // not allow: all mean this backend cannot answer now, and SQL can.
                Ok(Err(e)) => return Err(SearchError::Unavailable(format!("meilisearch: {e}"))),
                Ok(Ok(r)) => r,
            };
        // Meilisearch's offset/limit mode gives `estimatedTotalHits` (exact up to its
        // `maxTotalHits`, 1000 by default), cheaper than the exhaustive count of page mode.
        let total_exact = results.estimated_total_hits.is_none();
        let total = results
            .estimated_total_hits
            .or(results.total_hits)
            .unwrap_or(results.hits.len());
        Ok(SearchPage {
            total_exact,
            items: results
                .hits
                .into_iter()
                .map(|h| SearchHit::from(h.result))
                .collect(),
            page: page.page,
            per_page: page.per_page,
            total: u64::try_from(total).unwrap_or(u64::MAX),
        })
    }
}

impl CatalogSearch for MeiliSearch {
    fn name(&self) -> &'static str {
        "meilisearch"
    }

    fn search<'a>(&'a self, query: &'a ResolvedQuery) -> SearchFuture<'a> {
        Box::pin(self.run(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PageRequest;

    #[test]
    fn a_number_query_sends_its_words_and_then_the_normalised_number() {
        assert_eq!(meili_q(&ParsedQuery::parse("BP-1234")), "bp 1234 bp1234");
        assert_eq!(meili_q(&ParsedQuery::parse("BP 1234")), "bp 1234 bp1234");
        assert_eq!(meili_q(&ParsedQuery::parse("bp1234")), "bp1234");
        assert_eq!(
            meili_q(&ParsedQuery::parse("Balata delantera")),
            "balata delantera"
        );
        assert_eq!(
            meili_q(&ParsedQuery::parse("balata BP-1234")),
            "balata bp 1234 balatabp1234"
        );
    }

    #[test]
    fn filters_join_vehicles_brand_and_category() {
        let q = ResolvedQuery {
            text: None,
            vehicle_ids: Some(vec![3, 7]),
            category_id: Some(2),
            brand_id: Some(9),
            part_ids: None,
            page: PageRequest {
                page: 1,
                per_page: 10,
            },
        };
        assert_eq!(
            meili_filter(&q).as_deref(),
            Some("vehicle_ids IN [3, 7] AND brand_id = 9 AND category_id = 2")
        );
    }
}
