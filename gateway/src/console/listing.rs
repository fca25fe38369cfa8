//! Lists a console page must show whole (a calendar's sessions, a session's roster):
//! every page of a paged list, following its `next_page_token` at the largest page size.
//! Pages that show only the latest rows ask for one page of [`PAGE`] instead.

use std::future::Future;

/// The largest page the services answer.
pub const PAGE: u32 = linli_platform::page::MAX_PAGE_SIZE;

/// Every row of a list: `fetch` asks for the page after a token (empty for the first) and
/// answers its rows and the next token (empty after the last page).
pub async fn every_page<T, E, F, Fut>(mut fetch: F) -> Result<Vec<T>, E>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), E>>,
{
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = fetch(token).await?;
        rows.extend(page);
        if next.is_empty() {
            return Ok(rows);
        }
        token = next;
    }
}
