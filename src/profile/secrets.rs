//! What of a broker URL is secret, and how it is read and hidden. Consoles print URLs with a
//! `user:password@` before the host and tokens in the WebSocket query (`/mqtt?token=…`); both
//! are read (the user info percent-decoded, so a password may hold `@`, `/` or `:` written as
//! `%40`, `%2F`, `%3A`), and both are hidden wherever the URL is shown or written without
//! secrets: in error messages, in exported profiles, in the connection's title and log.

/// Where the user info of `rest` (a URL after its `scheme://`) ends: at the last `@`, so a
/// password holding a raw `@`, `/`, `?` or `#` is taken whole, never split into host and path.
/// (A path or query holding `@` is read as user info too; such paths are rare, passwords with
/// odd characters are not.)
pub(super) fn userinfo_end(rest: &str) -> Option<usize> {
    rest.rfind('@')
}

/// `rest` (a URL after its `scheme://`) split into user info, authority (host and port) and
/// what follows (path, query, fragment): the authority starts after the last `@` and ends at the
/// first `/`, `?` or `#` after it.
pub(super) fn split_rest(rest: &str) -> (Option<&str>, &str, Option<&str>) {
    let (userinfo, after) = match userinfo_end(rest) {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    match after.find(['/', '?', '#']) {
        Some(i) => (userinfo, &after[..i], Some(&after[i..])),
        None => (userinfo, after, None),
    }
}

/// `text` with its user info, if any, replaced by `***`, for error messages:
/// "ws://u:secret@:9001" → "ws://***@:9001". Text without a scheme is treated the same.
pub fn redact_userinfo(text: &str) -> String {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), text),
    };
    match userinfo_end(rest) {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => text.to_owned(),
    }
}

/// A request path with the values of its query hidden: "/mqtt?token=abc&v=2" →
/// "/mqtt?token=***&v=***"; a bare value ("/mqtt?abc") becomes "***"; a fragment is dropped.
/// Tokens and signatures travel there (AWS IoT, Azure, EMQX's JWT).
pub fn hide_query_values(path: &str) -> String {
    let path = path.split_once('#').map_or(path, |(before, _)| before);
    let Some((base, query)) = path.split_once('?') else { return path.to_owned() };
    if query.is_empty() {
        return base.to_owned();
    }
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) => format!("{key}=***"),
            None if pair.is_empty() => String::new(),
            None => "***".to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// A broker URL without its secrets: no user info, query values hidden. Text that is not a URL
/// is returned with any `user@` part hidden.
pub fn url_without_secrets(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return redact_userinfo(text) };
    let (_, authority, after) = split_rest(rest);
    format!("{scheme}://{authority}{}", after.map(hide_query_values).unwrap_or_default())
}

/// Percent-decodes user info ("p%40ss" → "p@ss"); a `%` not followed by two hex digits is kept
/// as written. `None` when the decoded bytes are not UTF-8.
pub(super) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or_default());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_ends_at_the_last_at_sign() {
        assert_eq!(split_rest("u:pa/ss@host:9001/mqtt"), (Some("u:pa/ss"), "host:9001", Some("/mqtt")));
        assert_eq!(split_rest("u:p@s?s#@h?x=1"), (Some("u:p@s?s#"), "h", Some("?x=1")));
        assert_eq!(split_rest("h#frag"), (None, "h", Some("#frag")));
        assert_eq!(split_rest("h"), (None, "h", None));
    }

    #[test]
    fn user_info_is_hidden_in_text_shown() {
        assert_eq!(redact_userinfo("ws://u:secret@:9001"), "ws://***@:9001");
        assert_eq!(redact_userinfo("u:se/cret@h"), "***@h");
        assert_eq!(redact_userinfo("ws://h:9001/mqtt"), "ws://h:9001/mqtt");
    }

    #[test]
    fn query_values_are_hidden_and_fragments_dropped() {
        assert_eq!(hide_query_values("/mqtt?token=abc&v=2"), "/mqtt?token=***&v=***");
        assert_eq!(hide_query_values("/mqtt?abc"), "/mqtt?***");
        assert_eq!(hide_query_values("/mqtt?"), "/mqtt");
        assert_eq!(hide_query_values("/mqtt#x=secret"), "/mqtt");
        assert_eq!(hide_query_values("/mqtt"), "/mqtt");
    }

    #[test]
    fn urls_lose_user_info_and_query_values() {
        assert_eq!(url_without_secrets("wss://u:p/w@h:8884/mqtt?token=abc"), "wss://h:8884/mqtt?token=***");
        assert_eq!(url_without_secrets("mqtt://h"), "mqtt://h");
        assert_eq!(url_without_secrets("user:pw@h"), "***@h");
    }

    #[test]
    fn user_info_is_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%2Fw%3a").as_deref(), Some("p@ss/w:"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%FF"), None);
    }
}
