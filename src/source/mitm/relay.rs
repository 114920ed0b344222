//! Copying one direction of a proxied connection, unchanged, while its plaintext is tapped
//! for the decoder. The tap never makes the copy wait (see `tap`).

use super::tap::DirTap;
use crate::vocab::Ts;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Read size: TLS records carry at most 16 KiB, so larger buffers only cost memory.
const BUF: usize = 32 << 10;

/// Copies `from` to `to` until the end of stream, tapping every chunk; `to` is shut down
/// (its write half) when `from` ends.
pub async fn relay<R, W>(mut from: R, mut to: W, mut tap: DirTap) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(n) => n,
            // Most TLS peers (the go command included) close without close_notify: that
            // is an end of stream, not a reset.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => {
                let _ = to.shutdown().await;
                return Err(e);
            }
        };
        let ts = Ts::now();
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            let _ = to.shutdown().await;
            tap.fin(ts).await;
            return Ok(());
        };
        to.write_all(chunk).await?;
        tap.data(ts, chunk);
    }
}
