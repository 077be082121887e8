//! Listings over pages (`NextToken`), capped: at most so many pages and so many items, whatever
//! a peer keeps answering. Used with every SDK client whose outputs carry `next_token`.

use std::future::Future;

use crate::AwsError;

/// Pages followed for one listing.
pub(crate) const MAX_PAGES: usize = 20;
/// Pages followed for one Route 53 Resolver listing (100 items a page; a DNS Firewall domain
/// list's 1 000).
pub(crate) const RESOLVER_PAGES: usize = 10;

/// Every item of a listing over its pages: `page` asks for one page (the token of the one before,
/// `None` first) and answers its items and the next token. At most [`MAX_PAGES`] pages and
/// [`kreach::limits::MAX_LIST`] items.
pub(crate) async fn all<T, F, Fut>(page: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    up_to(MAX_PAGES, kreach::limits::MAX_LIST, page).await.map(|(items, _)| items)
}

/// The items of a listing over at most `max_pages` pages, at most `cap` of them, and whether that
/// was all of it (no page left unread, nothing cut).
pub(crate) async fn up_to<T, F, Fut>(max_pages: usize, cap: usize, mut page: F) -> Result<(Vec<T>, bool), AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut token = None;
    let mut complete = false;
    for _ in 0..max_pages {
        let (mut got, next) = page(token.take()).await?;
        items.append(&mut got);
        token = next.filter(|t: &String| !t.is_empty());
        if token.is_none() {
            complete = true;
            break;
        }
        if items.len() >= cap {
            break;
        }
    }
    complete &= items.len() <= cap;
    items.truncate(cap);
    Ok((items, complete))
}

/// One listing through [`all`] (or [`up_to`] with `pages` and `cap`): `$request` is the
/// operation's fluent builder (built again for each page), `$field` the output's list, `$label`
/// the call's name (`ec2:DescribeSubnets`), which errors carry.
macro_rules! listing {
    ($label:expr, $request:expr, $field:ident) => {
        $crate::pages::all($crate::pages::listing!(@page $label, $request, $field))
    };
    ($label:expr, $request:expr, $field:ident, pages = $pages:expr, cap = $cap:expr) => {
        $crate::pages::up_to($pages, $cap, $crate::pages::listing!(@page $label, $request, $field))
    };
    (@page $label:expr, $request:expr, $field:ident) => {
        |token| {
            let request = $request.set_next_token(token);
            // On the heap: an SDK call's future is tens of kilobytes, and the audit joins many.
            Box::pin(async move {
                let out = request.send().await.map_err(|e| $crate::classify($label, e))?;
                Ok((out.$field.unwrap_or_default(), out.next_token))
            })
        }
    };
}
pub(crate) use listing;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listing_follows_its_tokens_and_stops_at_its_caps() {
        // Three pages, then no token.
        let mut asked = Vec::new();
        let items = all(|token: Option<String>| {
            asked.push(token.clone());
            let n = token.map_or(0, |t| t.parse::<usize>().unwrap_or(99));
            async move { Ok((vec![n], (n < 2).then(|| (n + 1).to_string()))) }
        })
        .await
        .expect("pages");
        assert_eq!(items, vec![0, 1, 2]);
        assert_eq!(asked, vec![None, Some("1".to_string()), Some("2".to_string())]);
        // A peer that always has another page: MAX_PAGES asked, no more.
        let mut pages = 0;
        let items = all(|_| {
            pages += 1;
            async { Ok((vec![1u8], Some("again".to_string()))) }
        })
        .await
        .expect("pages");
        assert_eq!((pages, items.len()), (MAX_PAGES, MAX_PAGES));
        // An empty token ends it.
        let items = all(|_| async { Ok((vec![1u8], Some(String::new()))) }).await.expect("one");
        assert_eq!(items.len(), 1);
        // A page that fails fails the listing.
        let failed = all(|_| async { Err::<(Vec<u8>, _), _>(AwsError::other("x")) }).await;
        assert!(failed.is_err());
        // Items past the cap are dropped.
        let items = all(|_| async { Ok((vec![0u8; kreach::limits::MAX_LIST + 5], None)) }).await.expect("capped");
        assert_eq!(items.len(), kreach::limits::MAX_LIST);
        // Whether that was all: only when the last page had no token and nothing was cut.
        let whole = up_to(3, 10, |_| async { Ok((vec![1u8; 4], None)) }).await.expect("one page");
        assert_eq!((whole.0.len(), whole.1), (4, true));
        let cut = up_to(3, 3, |_| async { Ok((vec![1u8; 4], None)) }).await.expect("cut");
        assert_eq!((cut.0.len(), cut.1), (3, false));
        let unread = up_to(2, 100, |_| async { Ok((vec![1u8], Some("more".to_string()))) }).await.expect("unread");
        assert_eq!((unread.0.len(), unread.1), (2, false));
    }
}
