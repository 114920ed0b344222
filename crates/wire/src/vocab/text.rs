//! Substring search for the short strings of the hot path (request URLs, message heads).
//!
//! `memchr::memmem::find` and `str::find` build a searcher for every call: several hundred
//! instructions before the first byte is looked at, which on a 60-byte URL is most of the
//! cost (a quarter of the request-classification time in the replay profile). Searching
//! for the needle's first byte with `memchr` and comparing the rest costs a few
//! instructions per candidate; with the fixed needles used here (a few bytes each) the
//! search stays linear in the haystack.

/// Where `needle` first occurs in `haystack` (an empty needle is not looked for: `None`).
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    memchr::memchr_iter(first, haystack).find(|&i| haystack[i + 1..].starts_with(rest))
}

/// `find` on text.
pub fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    find(haystack.as_bytes(), needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_memmem(h in proptest::collection::vec(0u8..4, 0..64),
                              n in proptest::collection::vec(0u8..4, 1..5)) {
            prop_assert_eq!(find(&h, &n), memchr::memmem::find(&h, &n));
        }
    }

    #[test]
    fn edges() {
        assert_eq!(find_str("https://h/m/@v/list", "/@v/"), Some(11));
        assert_eq!(find_str("ab", "abc"), None);
        assert_eq!(find_str("", "a"), None);
        assert_eq!(find_str("a", ""), None);
    }
}
