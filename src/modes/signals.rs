//! One signal handler for the whole program.

use super::failure::Failure;
use super::setup::{Run, View};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Something to do when the user interrupts the run.
type Action = Box<dyn Fn() + Send + Sync>;

/// What SIGINT (Ctrl-C), SIGTERM and SIGHUP do: one handler thread for the whole program,
/// installed once. Modes add what must happen (waking capture threads) to the stop flag
/// every mode has. SIGHUP stops too (the terminal went away), except for a daemon, where
/// it asks for the output file to be opened again (after logrotate moved it).
#[derive(Clone)]
pub(super) struct Signals {
    pub(super) stop: Arc<AtomicBool>,
    actions: Arc<Mutex<Vec<Action>>>,
}

impl Signals {
    pub(super) fn install(run: &Run) -> Result<Signals, Failure> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let s = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            actions: Arc::default(),
        };
        let mut incoming = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
        let handler = s.clone();
        let reopen = (run.view == View::Headless).then(|| run.reopen.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                // This runs on its own thread, not in the signal handler itself, so taking
                // a lock and waking threads is safe here.
                for sig in incoming.forever() {
                    if let (SIGHUP, Some(r)) = (sig, &reopen) {
                        r.store(true, Ordering::Relaxed);
                        continue;
                    }
                    handler.stop.store(true, Ordering::Relaxed);
                    let actions = handler.actions.lock().unwrap_or_else(|p| p.into_inner());
                    for a in actions.iter() {
                        a();
                    }
                }
            })
            .map_err(|e| Failure::Runtime(format!("starting the signal thread: {e}")))?;
        Ok(s)
    }

    pub(super) fn on_signal(&self, action: impl Fn() + Send + Sync + 'static) {
        self.actions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(action));
    }
}
