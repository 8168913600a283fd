//! TLS: the trusted roots (by feature: `webpki-roots`, `native-roots`, plus
//! the builder's extra certificates) and the crypto provider (by feature:
//! `aws-lc-rs`, `ring`, else the process default).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use crate::error::{Error, Result};

pub(super) fn tls_config(
    extra: &[CertificateDer<'static>],
    built_in: bool,
) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if built_in {
        #[cfg(feature = "webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        #[cfg(feature = "native-roots")]
        {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system certificate rustls cannot parse is skipped, as
                // the other roots still work.
                let _ = roots.add(cert);
            }
        }
    }
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| Error::builder_msg(format!("invalid root certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(Error::builder_msg(
            "no trusted root certificates: enable the webpki-roots or native-roots \
             feature, or add a root certificate",
        ));
    }
    let provider = crypto_provider()?;
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::builder)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// The crypto provider: aws-lc-rs when its feature is on, else ring, else
/// the process default a program installed
/// (`rustls::crypto::CryptoProvider::install_default`).
fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>> {
    #[cfg(feature = "aws-lc-rs")]
    return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Ok(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .ok_or_else(|| {
            Error::builder_msg(
                "no TLS crypto provider: enable the ring or aws-lc-rs feature, or install a \
                 process default with rustls::crypto::CryptoProvider::install_default",
            )
        })
}
