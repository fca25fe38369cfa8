//! What keeps the console's pages to the console: a form posted from another site is
//! refused before any handler reads it (the CSRF tokens stay as a second lock), and every
//! page tells the browser to run only the console's own script and stylesheet, never to
//! show the page inside a frame, never to keep it in a cache, and to send its address only
//! back to the console.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::Refusal;
use crate::AppState;

/// The console loads `/console.css` and `/console.js` and nothing else: no inline script
/// or style (charts are inline SVG styled by classes), no fonts, no images but its own.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// `router` with the console's protections on every route it has.
pub fn protect(router: Router<AppState>) -> Router<AppState> {
    router
        .layer(middleware::from_fn(same_origin_posts))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Pages hold residents' data: never cached. The stylesheet and script say otherwise.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Refuses a POST whose `Origin` (or, without one, `Referer`) names another site than the
/// one the request was sent to. A request with neither passes: older browsers and privacy
/// settings leave both out, and the form's CSRF token still has to match.
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !sent_from_here(request.headers()) {
        return Refusal {
            status: StatusCode::FORBIDDEN,
            detail: "表单来自其他网站，已拒绝。".into(),
        }
        .into_response();
    }
    next.run(request).await
}

fn sent_from_here(headers: &HeaderMap) -> bool {
    let sender = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(sender) = sender else {
        return true;
    };
    // The host the browser sent the form to, as a proxy in front of the gateway forwards it.
    let here = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|host| host.to_str().ok());
    let sender = sender
        .to_str()
        .ok()
        .and_then(|text| text.parse::<axum::http::Uri>().ok());
    match (sender.as_ref().and_then(|uri| uri.authority()), here) {
        (Some(sender), Some(here)) => sender.as_str().eq_ignore_ascii_case(here),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn a_post_is_from_here_when_its_origin_or_referer_names_this_host() {
        let host = ("host", "linli.example:8080");
        assert!(sent_from_here(&headers(&[host])));
        assert!(sent_from_here(&headers(&[
            host,
            ("origin", "http://linli.example:8080")
        ])));
        assert!(sent_from_here(&headers(&[
            host,
            ("referer", "http://linli.example:8080/c/x/dashboard")
        ])));
        assert!(!sent_from_here(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!sent_from_here(&headers(&[host, ("origin", "null")])));
        assert!(!sent_from_here(&headers(&[
            host,
            ("referer", "http://linli.example.evil.example/")
        ])));
        // The Origin decides when both are sent.
        assert!(!sent_from_here(&headers(&[
            host,
            ("origin", "http://evil.example"),
            ("referer", "http://linli.example:8080/")
        ])));
        // Behind a proxy, the host the browser used.
        assert!(sent_from_here(&headers(&[
            ("host", "gateway:8080"),
            ("x-forwarded-host", "linli.example"),
            ("origin", "https://linli.example")
        ])));
    }
}
