//! A private certificate authority and a server certificate it signed for
//! 127.0.0.1, made fresh for a test, written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// PEM files in a directory: the CA's certificate, and the server's
/// certificate and key.
pub struct Pki {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Makes a CA and a server certificate for `127.0.0.1` and `localhost`.
pub fn private_ca(dir: &Path) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "laudspeaker-import test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("self-signed CA");
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("server parameters");
    let server_cert = server
        .signed_by(&server_key, &ca_cert, &ca_key)
        .expect("server certificate");
    let pki = Pki {
        ca_cert: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    };
    std::fs::write(&pki.ca_cert, ca_cert.pem()).expect("write CA");
    std::fs::write(&pki.server_cert, server_cert.pem()).expect("write server cert");
    std::fs::write(&pki.server_key, server_key.serialize_pem()).expect("write server key");
    pki
}
