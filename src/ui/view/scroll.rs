//! Scrolling a list: which rows are shown.

/// The first row to show so that `selected` is visible in `height` rows, moving the
/// window as little as possible from `offset`.
pub(crate) fn window(selected: usize, offset: usize, height: usize, len: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    let offset = if selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    };
    offset.min(len - height)
}
