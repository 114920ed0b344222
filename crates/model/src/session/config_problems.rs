//! What the go command's environment alone shows will fail, when no traffic can: GOPROXY
//! off, or credentials in an `http://` GOPROXY entry (the go command refuses to send them).

use super::model::Session;
use crate::gomod::cause::Cause;
use crate::gomod::verdict::{Problem, Severity};
use gomodwatch_wire::vocab::url;

impl Session {
    pub(super) fn config_problems(&self, out: &mut Vec<Problem>) {
        let Some(env) = self.config.go_env.as_ref() else {
            return;
        };
        let goproxy = env.goproxy();
        if goproxy.trim() == "off" {
            out.push(
                Problem {
                    severity: Severity::Error,
                    text: "GOPROXY=off: the go command may not download any module (`module \
                           lookup disabled by GOPROXY=off`); set GOPROXY (the default is \
                           https://proxy.golang.org,direct), or fill the module cache first"
                        .into(),
                    ..Default::default()
                }
                .caused(Cause::Disabled, "config", None),
            );
        }
        for entry in goproxy.split([',', '|']).map(str::trim) {
            let Some(u) = url::parse(entry) else { continue };
            if u.scheme() == "http" && (u.password().is_some() || !u.username().is_empty()) {
                let shown = url::redact_password(entry);
                out.push(
                    Problem {
                        severity: Severity::Error,
                        text: format!(
                            "GOPROXY entry {shown} has credentials in a plain http:// URL: the \
                             go command refuses to send them (`refusing to pass credentials to \
                             insecure URL`); serve the proxy over https, and put the \
                             credentials in $HOME/.netrc or GOAUTH rather than in GOPROXY"
                        ),
                        ..Default::default()
                    }
                    .caused(Cause::Credentials, "config", shown),
                );
            }
        }
    }
}
