//! Text in a width: what is cut ends with an ellipsis, never silently, and table columns
//! share the width by what they hold. Hand-written: ratatui's Table cuts a cell at its
//! column's edge without a mark, and sizes columns by fixed constraints, not content.
//! Widths are counted in chars: the text here is sanitised module paths, versions, URLs
//! and numbers, which are one column per char.

use std::borrow::Cow;

/// `s` in at most `width` columns: cut with `…` when it does not fit.
pub(crate) fn fit(s: &str, width: usize) -> Cow<'_, str> {
    if s.chars().count() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    Cow::Owned(out)
}

/// Widths for columns whose longest cell is `want[i]`, none below `min[i]`, in `total`
/// columns with one column between each two. When everything fits, each gets what it
/// wants and the first (the module path) the rest; otherwise the widest column gives up
/// one column at a time, so the cut falls on the longest text (a long pseudo-version is
/// cut before a short module path is).
pub(crate) fn share(want: &[u16], min: &[u16], total: u16) -> Vec<u16> {
    let gaps = want.len().saturating_sub(1) as u16;
    let room = total.saturating_sub(gaps);
    let mut w: Vec<u16> = want.iter().zip(min).map(|(a, b)| (*a).max(*b)).collect();
    let sum = |w: &[u16]| w.iter().map(|x| u32::from(*x)).sum::<u32>();
    let used = sum(&w);
    if used <= u32::from(room) {
        if let Some(first) = w.first_mut() {
            *first += room - used as u16;
        }
        return w;
    }
    let mut over = used - u32::from(room);
    while over > 0 {
        // The widest column that may still shrink; ties go to the later one (the module
        // path, first, keeps its width longest).
        let widest = (0..w.len())
            .filter(|&i| w[i] > min[i])
            .max_by_key(|&i| (w[i], i));
        let Some(i) = widest else { break };
        w[i] -= 1;
        over -= 1;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_ends_with_an_ellipsis() {
        assert_eq!(
            fit("github.com/BurntSushi/toml", 26),
            "github.com/BurntSushi/toml"
        );
        assert_eq!(
            fit("github.com/BurntSushi/toml", 24),
            "github.com/BurntSushi/t…"
        );
        assert_eq!(fit("303.7K", 1), "…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("ünïcödé", 4), "ünï…");
    }

    #[test]
    fn columns_share_by_content() {
        // Everything fits: each its own, the rest to the first.
        assert_eq!(share(&[20, 6, 3], &[6, 6, 3], 40), [29, 6, 3]);
        // Too narrow: the widest text is cut first (a 34-char pseudo-version before a
        // 22-char module path), none below its minimum.
        let w = share(&[22, 34, 5], &[8, 7, 5], 60);
        assert_eq!(w.iter().sum::<u16>() + 2, 60);
        assert_eq!(w, [22, 31, 5]);
        let w = share(&[30, 34, 5], &[8, 7, 5], 40);
        assert_eq!(w, [17, 16, 5]);
        // Cannot fit even at the minimums: the minimums.
        assert_eq!(share(&[30, 34], &[10, 10], 5), [10, 10]);
    }
}
