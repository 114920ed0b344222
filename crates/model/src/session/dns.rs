//! How long DNS lookups took, by name, for the waterfall.

use gomodwatch_wire::vocab::DnsAnswer;
use std::collections::HashMap;

const MAX_NAMES: usize = 10_000;

#[derive(Debug, Default)]
pub struct DnsTimes {
    by_name: HashMap<String, f64>,
}

impl DnsTimes {
    pub fn apply(&mut self, d: &DnsAnswer) {
        if let Some(ms) = d.duration_ms {
            if self.by_name.len() < MAX_NAMES || self.by_name.contains_key(&d.name) {
                self.by_name.insert(d.name.clone(), ms);
            }
        }
    }

    pub fn ms(&self, name: &str) -> Option<f64> {
        self.by_name.get(name).copied()
    }
}
