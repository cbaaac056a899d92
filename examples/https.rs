//! HTTPS: "Hello, World!" at `/` over TLS (rustls), and, given a directory, its files under
//! `/static/`.
//!
//! Arguments: the address, the certificate chain and the private key (PEM), and optionally a
//! directory. SIGHUP reloads the certificate and key from their files (new connections use
//! them; open ones keep theirs); SIGTERM or Ctrl-C stops gracefully. Needs the `tls` feature.
//!
//! ```sh
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
//!     -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
//!     -addext basicConstraints=critical,CA:FALSE -keyout key.pem -out cert.pem
//! cargo run --release --example https --features tls -- 127.0.0.1:8443 cert.pem key.pem ./docs
//! curl --cacert cert.pem https://localhost:8443/
//! curl --cacert cert.pem https://localhost:8443/static/book.toml
//! ```

mod support;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use smolweb::tls::TlsConfig;
use smolweb::{Router, ServeDir};

const USAGE: support::Usage = support::Usage {
    name: "https",
    args: "ADDR CERT.pem KEY.pem [DIR]",
    about: "Serves \"Hello, World!\" at https://ADDR/ and, given DIR, its files under
https://ADDR/static/, with the certificate chain CERT.pem and its key KEY.pem. SIGHUP reloads
the certificate and key; SIGTERM or Ctrl-C stops gracefully.",
};

fn main() {
    let args = USAGE.parse(4);
    let [addr, cert, key] = [0, 1, 2].map(|i| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| USAGE.refuse("needs ADDR CERT.pem KEY.pem (see --help)"))
    });
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap_or_else(|e| USAGE.refuse(e));
    let mut app = Router::new().get("/", |_| async { "Hello, World!" });
    if let Some(dir) = args.get(3) {
        let files = ServeDir::try_new(dir).unwrap_or_else(|e| USAGE.refuse(e));
        app = app.get("/static/*path", files);
    }
    let mut signals = Signals::new([Signal::Hup, Signal::Int, Signal::Term])
        .unwrap_or_else(|e| USAGE.refuse(format!("cannot watch for signals: {e}")));
    let server = USAGE.bind(&addr).tls(tls.clone());
    println!("serving on https://{}", server.local_addr());
    USAGE.exit(server.run_until(app, async move {
        while let Some(Ok(signal)) = signals.next().await {
            if signal != Signal::Hup {
                println!("{signal:?}: finishing the requests in progress");
                return;
            }
            match tls.reload() {
                Ok(()) => println!("SIGHUP: certificate reloaded from {cert}"),
                Err(e) => eprintln!("SIGHUP: kept the certificate in use: {e}"),
            }
        }
    }));
}
