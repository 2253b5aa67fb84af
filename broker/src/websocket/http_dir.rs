//! `http_dir`: which file a plain GET names, and its content type. Reading it is the
//! transport's; here only the path rules, so they can be tested and fuzzed without files.

use std::path::{Component, Path, PathBuf};

/// The file a request path names, relative to `http_dir`: percent escapes decoded, the query
/// dropped, `/` meaning `index.html`. `None` for a path that could leave the directory (`..`,
/// a backslash, a NUL, a drive or root component) or is not UTF-8 once decoded.
pub fn static_path(request_path: &str) -> Option<PathBuf> {
    let path = request_path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut relative = PathBuf::new();
    for component in Path::new(&decoded).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    if decoded.ends_with('/') || relative.as_os_str().is_empty() {
        relative.push("index.html");
    }
    Some(relative)
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type of a served file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        assert_eq!(static_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(static_path("/app/"), Some(PathBuf::from("app/index.html")));
        assert_eq!(static_path("/js/app.js?v=3"), Some(PathBuf::from("js/app.js")));
        assert_eq!(static_path("/my%20page.html"), Some(PathBuf::from("my page.html")));
        assert_eq!(static_path("/./a.css"), Some(PathBuf::from("a.css")));
        for bad in
            ["/../etc/passwd", "/a/../../b", "/%2e%2e/secret", "/..%2fsecret", "/a\\..\\b", "/%00", "/%zz", "/%2"]
        {
            assert_eq!(static_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type(Path::new("index.HTML")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("a.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("s.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("d.json")), "application/json");
        assert_eq!(content_type(Path::new("i.png")), "image/png");
        assert_eq!(content_type(Path::new("i.svg")), "image/svg+xml");
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }
}
