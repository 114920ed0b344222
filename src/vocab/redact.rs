//! Credentials never reach a view or an export unless the user asks (`--show-credentials`).

/// Replaces the password of a URL's userinfo with `xxxxx`, as Go's `url.Redacted` does:
/// `https://user:secret@host/p` → `https://user:xxxxx@host/p`. A user name alone is kept.
pub fn url_userinfo(url: &str) -> String {
    let Some((auth_start, at)) = userinfo_span(url) else {
        return url.to_string();
    };
    let userinfo = &url[auth_start..auth_start + at];
    let user = match userinfo.find(':') {
        Some(colon) => format!("{}:xxxxx", &userinfo[..colon]),
        None => userinfo.to_string(),
    };
    format!("{}{}{}", &url[..auth_start], user, &url[auth_start + at..])
}

/// Removes a URL's userinfo altogether (`https://user:pw@host/p` → `https://host/p`):
/// configured proxy URLs are matched against traffic, where credentials never appear in
/// the URL (the go command sends them as an Authorization header).
pub fn strip_userinfo(url: &str) -> String {
    match userinfo_span(url) {
        Some((auth_start, at)) => format!("{}{}", &url[..auth_start], &url[auth_start + at + 1..]),
        None => url.to_string(),
    }
}

/// Where the authority starts, and the offset of its `@` if it has userinfo.
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    let auth_start = url.find("://")? + 3;
    let auth_end = url[auth_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| auth_start + i);
    let at = url[auth_start..auth_end].rfind('@')?;
    Some((auth_start, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_only() {
        assert_eq!(
            url_userinfo("https://bob:s3cret@proxy.corp/p/@v/list"),
            "https://bob:xxxxx@proxy.corp/p/@v/list"
        );
        assert_eq!(url_userinfo("https://bob@h/x"), "https://bob@h/x");
        assert_eq!(url_userinfo("http://h/x@v1"), "http://h/x@v1");
        assert_eq!(url_userinfo("h:1"), "h:1");
    }

    #[test]
    fn strips_userinfo() {
        assert_eq!(
            strip_userinfo("https://bob:pw@proxy.corp/x"),
            "https://proxy.corp/x"
        );
        assert_eq!(strip_userinfo("https://proxy.corp"), "https://proxy.corp");
    }
}
