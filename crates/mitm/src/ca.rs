//! The local certificate authority for MITM mode: created on first use (rcgen), kept in
//! the user's config directory with an owner-only key, and used to sign a certificate for
//! each host the client asks for. Never committed anywhere: certs/ holds only instructions.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const CA_NAME: &str = "gomodwatch local CA";
/// What the leaves presented to clients sign with (ECDSA P-256): a TLS 1.2 cipher suite
/// is usable on the client leg only if it is for this algorithm (see `proxy::mirrored_suite`).
pub(crate) const LEAF_SIGNATURE: rustls::SignatureAlgorithm = rustls::SignatureAlgorithm::ECDSA;

/// Why the CA cannot be created, loaded or used; the text is the line the user sees.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// A file or directory of the CA could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A certificate could not be made.
    #[error("{0}")]
    Cert(#[from] rcgen::Error),
    /// The saved key cannot be read back.
    #[error("signing key: {0}")]
    Key(String),
    /// The key file is readable by others.
    #[error("{path} is readable by other users; run: chmod 600 {path}")]
    LooseKey {
        /// The key file.
        path: String,
    },
    /// The key file is someone else's.
    #[error("{path} belongs to another user (uid {uid}); the CA key must be yours")]
    NotOwned {
        /// The key file.
        path: String,
        /// Its owner.
        uid: u32,
    },
    #[error(
        "{path} is writable by other users: not keeping a CA key there (its mode is left as it \
         is; choose another --ca-dir or run: chmod go-w {path})"
    )]
    /// The CA directory is writable by others.
    OpenDir {
        /// The directory.
        path: String,
    },
    /// The CA directory is a file.
    #[error("{path} exists and is not a directory")]
    NotDir {
        /// The path.
        path: String,
    },
    #[error(
        "a CA already exists in {dir} with other name constraints ({have}); remove {dir}/ca.pem \
         and {dir}/ca.key first to make a new one"
    )]
    /// `ca init --permit` asked for other name constraints than the existing CA has.
    Mismatch {
        /// The CA directory.
        dir: String,
        /// The constraints the existing CA has.
        have: String,
    },
    /// `ca` commands other than `init` found no CA.
    #[error("no CA in {dir} yet: run gomodwatch ca init")]
    Missing {
        /// The CA directory.
        dir: String,
    },
}

/// The CA's parameters. The name is fixed, so an Issuer can be rebuilt from the saved key
/// alone and its signatures chain to the saved certificate (name constraints, when there
/// are some, are in the certificate and need not be in the issuer).
fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "gomodwatch");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time_now();
    p.not_before = now - std::time::Duration::from_secs(24 * 3600);
    p.not_after = now + std::time::Duration::from_secs(3 * 365 * 24 * 3600);
    p
}

fn time_now() -> time::OffsetDateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The local CA the MITM proxy certifies every host with (`--ca-dir`).
pub struct Ca {
    /// Its certificate (PEM), which clients must trust.
    pub cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    /// The DNS names it may certify (`ca init --permit`); `None`: any.
    pub permit: Option<Vec<String>>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

/// What `ca init` did.
pub enum Init {
    /// A new CA was made.
    Created(Ca),
    /// The CA was already there (kept as it is).
    Existing(Ca),
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ca({})", self.cert_path.display())
    }
}

/// `$XDG_CONFIG_HOME/gomodwatch`, else `~/.config/gomodwatch`.
pub fn default_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("gomodwatch");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".config").join("gomodwatch")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Ca {
    /// Loads the CA from `dir`, creating it (and `dir`) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Ca, CaError> {
        match Ca::init(dir, &[])? {
            Init::Created(ca) | Init::Existing(ca) => Ok(ca),
        }
    }

    /// Creates the CA in `dir` (constrained to `permit` when not empty), or loads the one
    /// there. An existing CA is never replaced; one with other constraints is an error
    /// when `permit` asks for some.
    pub fn init(dir: &Path, permit: &[String]) -> Result<Init, CaError> {
        prepare_dir(dir)?;
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
        if cert_path.exists() && key_path.exists() {
            let ca = Ca::load(dir)?;
            let have = ca.permit.clone().unwrap_or_default();
            let mut want = permit.to_vec();
            want.sort();
            let mut sorted = have.clone();
            sorted.sort();
            if !permit.is_empty() && sorted != want {
                return Err(CaError::Mismatch {
                    dir: dir.display().to_string(),
                    have: if have.is_empty() {
                        "none".into()
                    } else {
                        have.join(",")
                    },
                });
            }
            return Ok(Init::Existing(ca));
        }
        create(&cert_path, &key_path, permit)?;
        Ok(Init::Created(Ca::load(dir)?))
    }

    /// Loads the CA that is in `dir`.
    pub fn load(dir: &Path) -> Result<Ca, CaError> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca.key");
        if !cert_path.exists() || !key_path.exists() {
            return Err(CaError::Missing {
                dir: dir.display().to_string(),
            });
        }
        check_private(&key_path)?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        let key = KeyPair::from_pem(&key_pem)?;
        let cert_der = pem_certificate(&cert_pem).ok_or_else(|| CaError::Io {
            path: cert_path.clone(),
            source: std::io::Error::other("no certificate in the file"),
        })?;
        Ok(Ca {
            cert_path,
            issuer: Issuer::new(ca_params(), key),
            permit: super::constraints::permitted(&cert_der),
            cert_der,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// Whether this CA may certify `host` (clients refuse a leaf outside its constraints).
    pub(crate) fn permits(&self, host: &str) -> bool {
        self.permit
            .as_ref()
            .is_none_or(|p| super::constraints::allows(p, host))
    }

    /// A certificate for `host` (name or IP address) signed by the CA, made once per host.
    pub(crate) fn leaf(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = leaves.get(host) {
            return Ok(k.clone());
        }
        if !self.permits(host) {
            return Err(CaError::Key(format!(
                "{host} is outside the CA's name constraints"
            )));
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec![host.to_string()])?;
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = time_now();
        params.not_before = now - std::time::Duration::from_secs(3600);
        params.not_after = now + std::time::Duration::from_secs(30 * 24 * 3600);
        let cert = params.signed_by(&key, &self.issuer)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = rustls::crypto::ring::sign::any_supported_type(&der)
            .map_err(|e| CaError::Key(e.to_string()))?;
        let ck = Arc::new(CertifiedKey::new(
            vec![cert.der().clone(), self.cert_der.clone()],
            signer,
        ));
        leaves.insert(host.to_string(), ck.clone());
        Ok(ck)
    }
}

fn pem_certificate(pem: &str) -> Option<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut pem.as_bytes()).flatten().next()
}

/// Makes `dir` owner-only when it creates it; an existing directory keeps its mode (it is
/// the user's), but one others can write to is refused: they could swap the key.
fn prepare_dir(dir: &Path) -> Result<(), CaError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(CaError::NotDir {
            path: dir.display().to_string(),
        }),
        Ok(_m) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // A sticky world-writable directory (/tmp) is still one others can fill.
                if _m.permissions().mode() & 0o022 != 0 {
                    return Err(CaError::OpenDir {
                        path: dir.display().to_string(),
                    });
                }
            }
            Ok(())
        }
        Err(_) => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir).map_err(io(dir))
        }
    }
}

fn create(cert_path: &Path, key_path: &Path, permit: &[String]) -> Result<(), CaError> {
    let key = KeyPair::generate()?;
    let mut params = ca_params();
    if !permit.is_empty() {
        params.name_constraints = Some(super::constraints::for_names(permit));
    }
    let cert = params.self_signed(&key)?;
    // The key is created owner-only from the start: there is no moment it is readable.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(key_path).map_err(io(key_path))?;
    std::io::Write::write_all(&mut f, key.serialize_pem().as_bytes()).map_err(io(key_path))?;
    std::fs::write(cert_path, cert.pem()).map_err(io(cert_path))?;
    Ok(())
}

fn check_private(path: &Path) -> Result<(), CaError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(io(path))?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(CaError::NotOwned {
                path: path.display().to_string(),
                uid: meta.uid(),
            });
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(CaError::LooseKey {
                path: path.display().to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_a_private_key_and_signs_leaves() {
        let dir = std::env::temp_dir().join(format!("gmw-ca-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = Ca::load_or_create(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let pem = std::fs::read_to_string(&ca.cert_path).unwrap();
        // A second load reuses the same CA.
        let again = Ca::load_or_create(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&again.cert_path).unwrap(), pem);
        let leaf = again.leaf("proxy.golang.org").unwrap();
        assert_eq!(leaf.cert.len(), 2);
        assert!(again.leaf("127.0.0.1").is_ok());
        // A key others can read is refused.
        std::fs::set_permissions(dir.join("ca.key"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        assert!(matches!(
            Ca::load_or_create(&dir),
            Err(CaError::LooseKey { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_existing_directory_keeps_its_mode_and_an_open_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("gmw-ca-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Ca::load_or_create(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(matches!(
            Ca::load_or_create(&dir),
            Err(CaError::OpenDir { .. })
        ));
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o775);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_constrained_ca_reads_back_its_names_and_mints_no_other_leaf() {
        let dir = std::env::temp_dir().join(format!("gmw-ca-nc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let permit = vec!["proxy.golang.org".to_string(), "goproxy.cn".to_string()];
        let Init::Created(ca) = Ca::init(&dir, &permit).unwrap() else {
            panic!("not created")
        };
        assert_eq!(ca.permit.as_deref(), Some(&permit[..]));
        assert!(ca.leaf("proxy.golang.org").is_ok());
        assert!(ca.leaf("example.com").is_err());
        assert!(ca.leaf("127.0.0.1").is_err());
        // Asking for other constraints does not replace it.
        let other = vec!["example.com".to_string()];
        assert!(matches!(
            Ca::init(&dir, &other),
            Err(CaError::Mismatch { .. })
        ));
        assert!(matches!(Ca::init(&dir, &[]), Ok(Init::Existing(_))));
        std::fs::remove_dir_all(&dir).ok();
    }
}
