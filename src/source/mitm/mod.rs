//! MITM mode (`--mitm`): an explicit HTTPS proxy that terminates TLS with a local CA, so
//! traffic to proxy.golang.org, sum.golang.org or a private proxy is decoded in full. It
//! runs on its own tokio runtime and feeds plaintext chunks to the same decoder that reads
//! captures.

pub mod ca;
pub mod proxy;
pub mod upstream;

use crate::vocab::StreamEvent;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub struct MitmConfig {
    pub addr: SocketAddr,
    pub ca_dir: PathBuf,
    pub upstream_ca: Option<PathBuf>,
}

/// A running proxy: its events, and the runtime that drives it.
pub struct Mitm {
    runtime: tokio::runtime::Runtime,
    rx: mpsc::Receiver<StreamEvent>,
    pub addr: SocketAddr,
    pub ca_path: PathBuf,
}

impl Mitm {
    /// Binds the address and starts serving.
    pub fn start(cfg: &MitmConfig) -> Result<Mitm, String> {
        let ca = ca::Ca::load_or_create(&cfg.ca_dir).map_err(|e| e.to_string())?;
        let ca_path = ca.cert_path.clone();
        let upstream = upstream::client_config(cfg.upstream_ca.as_deref())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mitm")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(cfg.addr))
            .map_err(|e| format!("cannot listen on {}: {e}", cfg.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(1024);
        let proxy = Arc::new(proxy::Proxy::new(Arc::new(ca), upstream, tx));
        runtime.spawn(proxy.serve(listener));
        Ok(Mitm {
            runtime,
            rx,
            addr,
            ca_path,
        })
    }

    /// The next event, waiting at most `wait`.
    pub fn next(&mut self, wait: Duration) -> Option<StreamEvent> {
        if let Ok(ev) = self.rx.try_recv() {
            return Some(ev);
        }
        let rx = &mut self.rx;
        self.runtime
            .block_on(async { tokio::time::timeout(wait, rx.recv()).await.ok().flatten() })
    }
}
