use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::Version;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use messages_http::{Request, Transport};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::support::*;

/// A TLS server (HTTP/1.1 and HTTP/2 by ALPN) with a fresh self-signed
/// certificate for `localhost` and `127.0.0.1`; returns its port and the
/// certificate in DER and in PEM.
async fn tls_server() -> (u16, CertificateDer<'static>, String) {
    let (port, cert, pem, _conns) = tls_server_counted().await;
    (port, cert, pem)
}

/// [`tls_server`], with the count of TCP connections it accepted.
async fn tls_server_counted() -> (u16, CertificateDer<'static>, String, Arc<AtomicUsize>) {
    init_tracing();
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = ck.cert.der().clone();
    let pem = ck.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&conns);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let body = format!("{} over {:?}", req.uri().path(), req.version());
                    Ok::<_, std::convert::Infallible>(respond(&reply(200, &body)))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, cert, pem, conns)
}

#[tokio::test]
async fn trusted_self_signed_certificate_works_over_http2() {
    let (port, cert, _pem) = tls_server().await;
    let t = Transport::builder()
        .api_key("k")
        .base_url(format!("https://127.0.0.1:{port}"))
        .add_root_certificate_der(cert.to_vec())
        .build()
        .unwrap();
    let r = t.send(Request::get("/v1/models")).await.unwrap();
    assert_eq!(r.version(), Version::HTTP_2);
    assert_eq!(r.bytes().await.unwrap(), "/v1/models over HTTP/2.0");
    // A second request reuses the pooled connection.
    let r = t.send(Request::get("/again")).await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "/again over HTTP/2.0");
}

#[tokio::test]
async fn trusted_via_pem_by_host_name() {
    let (port, _cert, pem) = tls_server().await;
    let t = Transport::builder()
        .api_key("k")
        .base_url(format!("https://localhost:{port}"))
        .tls_built_in_root_certs(false)
        .add_root_certificates_pem(pem.as_bytes())
        .build()
        .unwrap();
    let r = t.send(Request::get("/pem")).await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "/pem over HTTP/2.0");
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_error_and_not_retried() {
    let (port, _cert, _pem) = tls_server().await;
    let t = Transport::builder()
        .api_key("k")
        .base_url(format!("https://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    assert!(!e.is_timeout());
    assert_eq!(
        e.attempts(),
        1,
        "a certificate error cannot be fixed by retrying"
    );
    let msg = format!("{:#}", anyhow::Error::new(e));
    assert!(msg.contains("TLS") && msg.contains("certificate"), "{msg}");
}

#[test]
fn no_roots_at_all_is_a_build_error() {
    let e = Transport::builder()
        .api_key("k")
        .tls_built_in_root_certs(false)
        .build()
        .unwrap_err();
    assert!(
        e.is_builder() && e.to_string().contains("root certificates"),
        "{e}"
    );
    let e = Transport::builder()
        .api_key("k")
        .add_root_certificates_pem(b"not pem")
        .build()
        .unwrap_err();
    assert!(e.is_builder(), "{e}");
}

#[tokio::test]
async fn http2_chosen_by_alpn_is_capped_per_connection() {
    // The server picks HTTP/2 by ALPN (no prior knowledge). Once a response
    // shows it, each connection carries at most `http2_max_streams` open
    // responses; a response holds its stream until read to the end.
    let (port, cert, _pem, conns) = tls_server_counted().await;
    let t = Transport::builder()
        .api_key("k")
        .base_url(format!("https://127.0.0.1:{port}"))
        .add_root_certificate_der(cert.to_vec())
        .http2_max_streams(1)
        .build()
        .unwrap();
    let first = t.send(Request::get("/1")).await.unwrap();
    assert_eq!(first.version(), Version::HTTP_2);
    let second = t.send(Request::get("/2")).await.unwrap();
    let third = t.send(Request::get("/3")).await.unwrap();
    assert_eq!(conns.load(Ordering::SeqCst), 3);
    assert_eq!(first.bytes().await.unwrap(), "/1 over HTTP/2.0");
    // The first connection has room again.
    let fourth = t.send(Request::get("/4")).await.unwrap();
    assert_eq!(conns.load(Ordering::SeqCst), 3);
    for (r, want) in [(second, "/2"), (third, "/3"), (fourth, "/4")] {
        assert_eq!(r.bytes().await.unwrap(), format!("{want} over HTTP/2.0"));
    }
}
