//! The emulator over https (`--tls-cert`, `--tls-key`): the certificate
//! chain and key are read once, and each accepted connection completes a
//! TLS handshake before it is served like any other.
//!
//! It exists so tests can import over https from a server whose
//! certificate a private certificate authority signed (`import --ca-cert`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::server::{self, Shared};

/// The TLS side of a server: certificate chain `cert` and private key
/// `key`, both PEM files. Only HTTP/1.1 is offered.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificates in {}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key in {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS version in common with the crypto provider")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the key do not make a TLS identity")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Completes the handshake on `stream`, then serves it; a client that
/// refuses the certificate simply ends the connection.
pub async fn serve(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let handshake = tokio::select! {
        handshake = acceptor.accept(stream) => handshake,
        () = stop.cancelled() => return,
    };
    match handshake {
        Ok(stream) => server::serve(stream, shared, stop).await,
        Err(err) => tracing::debug!("emulator: TLS handshake failed: {err}"),
    }
}
