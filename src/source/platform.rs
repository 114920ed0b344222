//! What live capture does differently on macOS and on Linux, written as functions of the
//! operating system instead of `cfg!` branches: the macOS decisions are unit-tested here on
//! Linux, with the OS as a parameter. No Mac runs them; tests/darwin-check.sh type-checks
//! the callers for macOS (README, "macOS").

use crate::vocab::{LinkType, UnsupportedLinkType};

/// The operating systems whose capture differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    /// Anything else (the BSDs, ...): Linux's rules where they are libpcap's own.
    Other,
}

impl Os {
    /// The OS this binary was built for.
    pub const fn current() -> Os {
        if cfg!(target_os = "linux") {
            Os::Linux
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Other
        }
    }
}

/// Whether libpcap's error text means "not allowed to capture".
pub(crate) fn is_permission_error(os: Os, msg: &str) -> bool {
    let lower = msg.to_lowercase();
    lower.contains("permission")
        || lower.contains("not permitted")
        // macOS reports a missing BPF permission as "No such file or directory" where
        // /dev/bpf* cannot be opened (bandwhich#486); on Linux that text means something
        // else and is shown as it is.
        || (os == Os::MacOs && lower.contains("no such file"))
}

/// What to do about a permission error.
pub(crate) fn permission_hint(os: Os) -> &'static str {
    match os {
        Os::MacOs => {
            "permission denied on /dev/bpf*: run it with sudo, or install Wireshark's ChmodBPF \
             (or add yourself to the access_bpf group)"
        }
        Os::Linux | Os::Other => {
            "permission denied: run it with sudo, or give the binary the capture capabilities: \
             sudo setcap cap_net_raw,cap_net_admin+eip $(command -v gomodwatch)"
        }
    }
}

/// The loopback interface's name: `lo` on Linux, `lo0` on macOS and the BSDs.
pub fn loopback_interface(os: Os) -> &'static str {
    match os {
        Os::Linux => "lo",
        Os::MacOs | Os::Other => "lo0",
    }
}

/// How to let gomodwatch capture without being root, for a message that offers it.
pub fn capture_without_root(os: Os) -> &'static str {
    match os {
        Os::MacOs => "install Wireshark's ChmodBPF (it adds you to the access_bpf group)",
        Os::Linux | Os::Other => {
            "give it CAP_NET_RAW (sudo setcap cap_net_raw+ep \"$(command -v gomodwatch)\")"
        }
    }
}

/// How one interface named with `-i` is opened. (Public, like its fields, because some of
/// them are read on one OS only.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenPlan {
    /// libpcap makes the device when it is opened, so it need not be in the list of
    /// interfaces: macOS's `any` (also `all`, `pktap`, `pktap,en0,lo0`, `iptap`) is a
    /// pktap interface Apple's libpcap creates on open (`pktap_create` in its
    /// pcap-darwin.c), which pcap_findalldevs does not list.
    pub made_on_open: bool,
    /// Keep only incoming packets (the kernel's PACKET_IGNORE_OUTGOING, `live.rs`). Linux
    /// loopback hands the capture every packet twice (out and in) and libpcap throws one
    /// copy away afterwards: the ring fills twice as fast and its drop counter counts both
    /// copies. macOS's `lo0` (DLT_NULL) shows each packet once.
    pub inbound_only: bool,
    /// Ask for Apple's PKTAP header on a pktap interface (macOS `any`). Never: without it
    /// the kernel hands the same packets over as raw IP (DLT_RAW; xnu's `bpf_setif` skips
    /// DLT_PKTAP unless the reader asked for it), which the decoder reads and a BPF filter
    /// applies to as on any interface. PKTAP's per-process header would need both.
    pub want_pktap: bool,
}

/// How `-i NAME` is opened on `os` (`is_loopback`: the device list says it is loopback).
pub fn open_plan(os: Os, name: &str, is_loopback: bool) -> OpenPlan {
    let pktap = os == Os::MacOs
        && (name == "any"
            || name == "all"
            || name.starts_with("pktap")
            || name.starts_with("iptap"));
    OpenPlan {
        made_on_open: pktap,
        inbound_only: os == Os::Linux && is_loopback,
        want_pktap: false,
    }
}

/// The link type of a live capture handle from the DLT value libpcap reports. Live DLT
/// values are the files' LINKTYPE values except for a few: on macOS, DLT 149 is PKTAP
/// (LINKTYPE 258 in a file; libpcap keeps Apple's old value live), while elsewhere 149 is
/// DLT_USER2. (DLT_RAW's 12 and 14 are the wire's `LinkType::from_code`.)
pub(crate) fn live_link_type(os: Os, dlt: i32) -> Result<LinkType, UnsupportedLinkType> {
    const APPLE_DLT_PKTAP: i32 = 149;
    const LINKTYPE_PKTAP: u32 = 258;
    match (os, dlt) {
        (Os::MacOs, APPLE_DLT_PKTAP) => LinkType::from_code(LINKTYPE_PKTAP),
        (_, d) => u32::try_from(d)
            .map_err(|_| UnsupportedLinkType(u32::MAX))
            .and_then(LinkType::from_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpf_permission_errors_on_macos() {
        // What Apple's libpcap says without root (bpf_open; SIOCIFCREATE for `any`).
        for msg in [
            "(cannot open BPF device) /dev/bpf0: Permission denied",
            "ioctl(SIOCIFCREATE): Operation not permitted",
            "lo0: No such file or directory",
        ] {
            assert!(is_permission_error(Os::MacOs, msg), "{msg}");
        }
        assert!(!is_permission_error(
            Os::MacOs,
            "(all BPF devices are busy)"
        ));
        assert!(permission_hint(Os::MacOs).contains("/dev/bpf*"));
        assert!(permission_hint(Os::MacOs).contains("ChmodBPF"));
        assert!(!permission_hint(Os::MacOs).contains("setcap"));
    }

    #[test]
    fn permission_errors_on_linux() {
        assert!(is_permission_error(
            Os::Linux,
            "socket: Operation not permitted"
        ));
        assert!(is_permission_error(
            Os::Linux,
            "eth0: You don't have permission to perform this capture on that device"
        ));
        // ENOENT on Linux is not a permission problem: shown as libpcap said it.
        assert!(!is_permission_error(Os::Linux, "No such file or directory"));
        assert!(permission_hint(Os::Linux).contains("setcap cap_net_raw"));
        assert!(!permission_hint(Os::Linux).contains("bpf"));
    }

    #[test]
    fn loopback_and_advice_follow_the_os() {
        assert_eq!(loopback_interface(Os::Linux), "lo");
        assert_eq!(loopback_interface(Os::MacOs), "lo0");
        assert!(capture_without_root(Os::MacOs).contains("ChmodBPF"));
        assert!(capture_without_root(Os::Linux).contains("CAP_NET_RAW"));
    }

    #[test]
    fn macos_lo0_is_opened_as_it_is() {
        // DLT_NULL, each packet once: no direction filter, and it is a listed interface.
        let p = open_plan(Os::MacOs, "lo0", true);
        assert_eq!(
            p,
            OpenPlan {
                made_on_open: false,
                inbound_only: false,
                want_pktap: false
            }
        );
        assert_eq!(live_link_type(Os::MacOs, 0), Ok(LinkType::Null));
    }

    #[test]
    fn linux_loopback_keeps_inbound_only() {
        assert!(open_plan(Os::Linux, "lo", true).inbound_only);
        assert!(!open_plan(Os::Linux, "eth0", false).inbound_only);
        // Linux's `any` is a listed device, never made on open.
        assert!(!open_plan(Os::Linux, "any", false).made_on_open);
    }

    #[test]
    fn macos_any_is_a_pktap_read_as_raw_ip() {
        for name in ["any", "all", "pktap", "pktap,en0,lo0", "iptap"] {
            let p = open_plan(Os::MacOs, name, false);
            assert!(p.made_on_open, "{name}");
            assert!(!p.want_pktap, "{name}");
        }
        assert!(!open_plan(Os::MacOs, "en0", false).made_on_open);
        // Without PKTAP headers the kernel delivers DLT_RAW: IP packets, decoded as such.
        assert_eq!(live_link_type(Os::MacOs, 12), Ok(LinkType::Raw));
    }

    #[test]
    fn dlt_149_is_pktap_on_macos_only() {
        // Whatever the wire makes of LINKTYPE_PKTAP (issue 27 reads it from files), a live
        // macOS handle reporting 149 is that; on Linux 149 is DLT_USER2.
        assert_eq!(live_link_type(Os::MacOs, 149), LinkType::from_code(258));
        assert_eq!(live_link_type(Os::Linux, 149), LinkType::from_code(149));
        assert!(live_link_type(Os::Linux, -1).is_err());
    }
}
