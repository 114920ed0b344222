//! `--report` snapshots on real recordings. The captures are fixed files, so every figure
//! in the report (times included) is deterministic; a change shows up as a snapshot diff.

use std::process::Command;

fn report(name: &str, goproxy: bool) -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/captures/{name}.json")).unwrap(),
    )
    .unwrap();
    let file = if std::path::Path::new(&format!("{dir}/captures/{name}.pcap")).exists() {
        format!("captures/{name}.pcap")
    } else {
        format!("captures/{name}.pcapng")
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gomodwatch"));
    cmd.current_dir(dir).args(["-r", &file, "--report"]);
    if goproxy {
        cmd.args(["--goproxy", meta["env"]["GOPROXY"].as_str().unwrap()]);
    }
    // Direct-mode recordings: decrypted with their key log, judged with the go command's
    // environment (every variable --go-env takes).
    if name.starts_with("direct/") {
        let keylog = format!("captures/{name}.keylog");
        if std::path::Path::new(dir).join(&keylog).exists() {
            cmd.args(["--tls-keylog", &keylog]);
        }
        for k in gomodwatch::gomod::goenv::VARS {
            let v = meta["env"][k].as_str().unwrap_or("");
            cmd.args(["--go-env", &format!("{k}={v}")]);
        }
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

macro_rules! snapshot {
    ($test:ident, $name:literal, $goproxy:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(report($name, $goproxy));
        }
    };
}

snapshot!(fallback_404_go119, "fallback-404-go119", true);
snapshot!(fallback_410_go127_inferred, "fallback-410-go127", false);
snapshot!(pipe_after_500, "pipe-after-500-go127", true);
snapshot!(comma_after_500, "comma-after-500-go127", true);
snapshot!(refused, "refused-go127", true);
snapshot!(hang, "hang-proxy-go127", true);
snapshot!(checksum_mismatch, "checksum-mismatch-go127", true);
snapshot!(sumdb_via_proxy, "sumdb-via-proxy-go127", true);
snapshot!(slow_proxy, "slow-proxy-go119", true);
snapshot!(https_undecodable, "https-go127", true);
snapshot!(veth_dns, "veth-mtu1500-go127", true);
snapshot!(squid_tunnel, "squid-tunnel-go127", true);
snapshot!(squid_407, "squid-407-go127", true);
snapshot!(tls12_untrusted, "tls12-untrusted-go127", true);
snapshot!(syn_drop, "syn-drop-go127", true);
snapshot!(hang_under_pipe, "hang-pipe-go127", true);
snapshot!(direct_go127, "direct/direct-go127", false);
snapshot!(direct_go119, "direct/direct-go119", false);
snapshot!(direct_goprivate, "direct/goprivate-go127", false);
snapshot!(
    direct_gonoproxy_overmatch,
    "direct/gonoproxy-overmatch-go127",
    false
);
snapshot!(direct_git_401, "direct/git-401-go127", false);
snapshot!(direct_git_netrc, "direct/git-netrc-go127", false);
snapshot!(direct_goinsecure, "direct/goinsecure-go127", false);
snapshot!(
    direct_goimport_mismatch,
    "direct/goimport-mismatch-go127",
    false
);
snapshot!(direct_git_404, "direct/git-404-go127", false);
