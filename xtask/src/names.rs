//! Wire names to Rust names.

/// Split a wire name into words: at `_`, `-`, `.`, at lower→upper and at the end of an
/// acronym (`APIName` → `API`, `Name`; `cDataRecordIPN` → `c`, `Data`, `Record`, `IPN`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `snake_case`, with a `_field` suffix for Rust keywords (yaserde's derive builds
/// `__{name}_value` locals, so a trailing `_` would not be snake case) and a leading `n` for a
/// leading digit.
#[must_use]
pub fn snake(name: &str) -> String {
    let s = words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    fix_ident(s)
}

/// `UpperCamelCase`.
#[must_use]
pub fn camel(name: &str) -> String {
    let s: String = words(name)
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut cs = lower.chars();
            cs.next()
                .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    fix_ident(s)
}

/// `SCREAMING_SNAKE_CASE`.
#[must_use]
pub fn screaming(name: &str) -> String {
    snake(name).trim_end_matches("_field").to_uppercase()
}

fn fix_ident(s: String) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "yield",
    ];
    if s.is_empty() {
        return "field".to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("n{s}");
    }
    if KEYWORDS.contains(&s.as_str()) {
        return format!("{s}_field");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("_APIName"), "api_name");
        assert_eq!(snake("custopmerIP"), "custopmer_ip");
        assert_eq!(snake("PayProviderID"), "pay_provider_id");
        assert_eq!(snake("HTTP_ACCEPT_ENCODING"), "http_accept_encoding");
        assert_eq!(snake("fraud_status"), "fraud_status");
        assert_eq!(snake("type"), "type_field");
        assert_eq!(camel("cDataRecordIPN"), "CDataRecordIpn");
        assert_eq!(camel("APICredential"), "ApiCredential");
        assert_eq!(camel("IPNEventRaisedResult"), "IpnEventRaisedResult");
        assert_eq!(camel("stringArray"), "StringArray");
        assert_eq!(screaming("CallToPartner"), "CALL_TO_PARTNER");
        assert_eq!(
            screaming("cash_createInvoice2Extended"),
            "CASH_CREATE_INVOICE2_EXTENDED"
        );
    }
}
