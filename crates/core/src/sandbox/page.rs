//! The pages a payer sees in the simulators: one look for every provider, server-rendered HTML
//! with plain forms (no script needed to pay), so a person — or a `WebDriver` test — can click
//! through a payment the way a shop's customer would.
//!
//! A simulator renders a [`Page`] (merchant, order, amount and currency, description, one
//! button per [`Choice`]); the buttons post `choice=…` back to the page's own URL; the
//! simulator applies the choice as the provider would (state, callback) and sends the browser
//! back to the shop the provider's way: [`see_other`] (a `303` to a URL with query
//! parameters) or [`post_back`] (a form the browser submits to the shop).

use std::fmt::Write as _;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::xml::{escape_attr, escape_text};

/// What the payer chose on a hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Pay the amount asked.
    Pay,
    /// Pay a different amount (providers whose reports carry the amount paid).
    PayWrongAmount,
    /// Refuse: the payment fails.
    Decline,
    /// Leave without finishing: the payment stays pending.
    LeavePending,
}

impl Choice {
    /// Every choice, in the order the buttons appear.
    pub const ALL: [Self; 4] = [
        Self::Pay,
        Self::PayWrongAmount,
        Self::Decline,
        Self::LeavePending,
    ];
    /// The choices of a provider whose reports do not carry the amount paid.
    pub const WITHOUT_AMOUNT: [Self; 3] = [Self::Pay, Self::Decline, Self::LeavePending];

    /// The form value (and the button's `id`).
    #[must_use]
    pub const fn value(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::PayWrongAmount => "wrong-amount",
            Self::Decline => "decline",
            Self::LeavePending => "pending",
        }
    }

    /// The button's label.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Pay => "Pay",
            Self::PayWrongAmount => "Pay a wrong amount",
            Self::Decline => "Decline",
            Self::LeavePending => "Leave pending",
        }
    }

    /// The choice a page's form posted (`choice=…` in a URL-encoded body); `None` when the body
    /// names none or an unknown one.
    #[must_use]
    pub fn from_form(body: &[u8]) -> Option<Self> {
        let value = form_urlencoded::parse(body)
            .find(|(k, _)| k == "choice")
            .map(|(_, v)| v)?;
        Self::ALL.into_iter().find(|c| c.value() == value)
    }
}

/// A hosted payment page.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The provider's name, as the page's heading shows it.
    pub provider: &'a str,
    /// The merchant being paid.
    pub merchant: &'a str,
    /// The merchant's order (reference).
    pub order: &'a str,
    /// The amount asked, as the provider writes it.
    pub amount: &'a str,
    /// Its currency.
    pub currency: &'a str,
    /// What is being paid for.
    pub description: &'a str,
    /// Where the buttons post (the page's own URL, path and query).
    pub action: &'a str,
    /// The buttons.
    pub choices: &'a [Choice],
}

impl Page<'_> {
    /// The page as HTML.
    #[must_use]
    pub fn html(&self) -> String {
        let mut buttons = String::new();
        for c in self.choices {
            let _ = write!(
                buttons,
                r#"<button type="submit" name="choice" value="{v}" id="{v}">{l}</button> "#,
                v = c.value(),
                l = c.label()
            );
        }
        let mut rows = String::new();
        for (k, v, id) in [
            ("Merchant", self.merchant, "merchant"),
            ("Order", self.order, "order"),
            ("Description", self.description, "description"),
        ] {
            let _ = write!(rows, r#"<dt>{k}</dt><dd id="{id}">{}</dd>"#, escape_text(v));
        }
        format!(
            concat!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
                "<meta name=\"viewport\" content=\"width=device-width\">",
                "<title>{provider} sandbox — pay {amount} {currency}</title>",
                "<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto}}",
                "dt{{font-weight:bold}}#amount{{font-size:2rem}}button{{margin:.3rem;padding:.5rem 1rem}}</style>",
                "</head><body><h1>{provider} sandbox</h1>",
                "<p id=\"amount\">{amount} {currency}</p><dl>{rows}</dl>",
                "<form method=\"post\" action=\"{action}\">{buttons}</form>",
                "<p><small>A simulator: no money moves.</small></p></body></html>\n"
            ),
            provider = escape_text(self.provider),
            amount = escape_text(self.amount),
            currency = escape_text(self.currency),
            rows = rows,
            action = escape_attr(self.action),
            buttons = buttons,
        )
    }
}

impl IntoResponse for Page<'_> {
    fn into_response(self) -> Response {
        html(StatusCode::OK, self.html())
    }
}

/// An HTML answer.
#[must_use]
pub fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A page that only says something (an unknown payment, a payment already finished, a shop
/// that gave no URL to come back to).
#[must_use]
pub fn message(status: StatusCode, provider: &str, text: &str) -> Response {
    html(
        status,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{p} sandbox</title></head><body><h1>{p} sandbox</h1><p id=\"message\">{t}</p></body></html>\n",
            p = escape_text(provider),
            t = escape_text(text)
        ),
    )
}

/// Send the browser to `url` with `pairs` added to its query (`303 See Other`: the browser
/// follows with a `GET`).
#[must_use]
pub fn see_other(url: &str, pairs: &[(&str, &str)]) -> Response {
    let location = crate::http::with_query(url, pairs);
    match header::HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => message(
            StatusCode::BAD_REQUEST,
            "paybridge",
            "the shop's return URL is not a valid URL",
        ),
    }
}

/// Send the browser to `url` with a `POST` of `fields`: a form the page submits by itself
/// (one line of script), with a button for a browser that runs none.
#[must_use]
pub fn post_back(url: &str, fields: &[(&str, &str)]) -> Response {
    let mut inputs = String::new();
    for (k, v) in fields {
        let _ = write!(
            inputs,
            r#"<input type="hidden" name="{}" value="{}">"#,
            escape_attr(k),
            escape_attr(v)
        );
    }
    html(
        StatusCode::OK,
        format!(
            concat!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Back to the shop</title></head>",
                "<body><form id=\"back\" method=\"post\" action=\"{}\">{}",
                "<button type=\"submit\" id=\"continue\">Back to the shop</button></form>",
                "<script>document.getElementById('back').submit();</script></body></html>\n"
            ),
            escape_attr(url),
            inputs
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_through_the_form() {
        for c in Choice::ALL {
            let body = format!("choice={}", c.value());
            assert_eq!(Choice::from_form(body.as_bytes()), Some(c));
        }
        assert_eq!(Choice::from_form(b"choice=steal"), None);
        assert_eq!(Choice::from_form(b""), None);
    }

    #[test]
    fn the_page_shows_what_is_paid_and_escapes_it() {
        let page = Page {
            provider: "Wooppay",
            merchant: "test_merch",
            order: "<order-1>",
            amount: "1000",
            currency: "KZT",
            description: "a \"quoted\" thing & more",
            action: "/invoice/operation?id=1&key=k",
            choices: &Choice::ALL,
        }
        .html();
        assert!(page.contains(r#"<p id="amount">1000 KZT</p>"#), "{page}");
        assert!(page.contains("&lt;order-1&gt;"), "{page}");
        assert!(page.contains("a \"quoted\" thing &amp; more"), "{page}");
        assert!(
            page.contains(r#"action="/invoice/operation?id=1&amp;key=k""#),
            "{page}"
        );
        for c in Choice::ALL {
            assert!(page.contains(&format!(r#"id="{}">{}</button>"#, c.value(), c.label())));
        }
    }
}
