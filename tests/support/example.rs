//! Running the examples as processes: [`example_binary`] finds one, [`Example`] runs one on
//! `127.0.0.1:0` and sends it requests, killing it when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use super::client::Conn;
use super::response::{RawResponse, parse_all};

/// How long an example may take to print its address, and the bound on each socket read.
pub const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(20);

/// The built example binary `name`, next to this test binary's directory.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/examples-<hash> -> target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary is in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} not found: `cargo test` builds the examples; with `cargo test --test examples`, \
         run `cargo build --examples` first",
        path.display()
    );
    path
}

/// A running example. Dropping it kills the process and waits for it.
pub struct Example {
    pub child: Child,
    pub addr: SocketAddr,
    /// The first line of stdout, which names the address.
    pub first_line: String,
    /// The rest of stdout, line by line (the reader thread keeps the pipe drained).
    pub lines: Receiver<String>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Example {
    /// Starts `name` with `127.0.0.1:0` and `args`, and waits for its address.
    pub fn start(name: &str, args: &[&str]) -> Example {
        Self::start_with(name, "127.0.0.1:0", args, &[])
    }

    /// Starts `name` on `addr` with `args` and the environment variables `envs`, and waits
    /// for its address.
    pub fn start_with(name: &str, addr: &str, args: &[&str], envs: &[(&str, &str)]) -> Example {
        let mut child = Command::new(example_binary(name))
            .arg(addr)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start example {name}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Build the guard before waiting, so a timeout still kills the child.
        let mut example = Example {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            first_line: String::new(),
            lines,
        };
        let line = example
            .lines
            .recv_timeout(EXAMPLE_TIMEOUT)
            .unwrap_or_else(|e| panic!("example {name} printed no address: {e:?}"));
        example.addr = parse_addr(&line)
            .unwrap_or_else(|| panic!("no http:// address in {name}'s first line {line:?}"));
        example.first_line = line;
        example
    }

    /// Sends one raw request (which should say `Connection: close`) and reads the response:
    /// until the server closes (bounded in time and size), then exactly one response, after
    /// any `100 Continue`.
    pub fn send(&self, raw: &[u8]) -> RawResponse {
        let mut conn = Conn::connect_with(self.addr, EXAMPLE_TIMEOUT);
        // A server may answer (and close) before taking a whole body; read what it said anyway.
        conn.write_tolerant(raw);
        let mut responses = parse_all(&conn.read_to_close())
            .into_iter()
            .skip_while(|res| res.status == 100);
        let res = responses.next().expect("a complete response");
        let more: Vec<u16> = responses.map(|r| r.status).collect();
        assert!(
            more.is_empty(),
            "more than one response: {} then {more:?}",
            res.status
        );
        res
    }

    /// `GET path` with `Connection: close`.
    pub fn get(&self, path: &str) -> RawResponse {
        self.send(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    }
}

/// The first `http://host:port` (or `https://host:port`) in `line`.
pub fn parse_addr(line: &str) -> Option<SocketAddr> {
    let (at, scheme) = match line.find("https://") {
        Some(at) => (at, "https://"),
        None => (line.find("http://")?, "http://"),
    };
    let rest = &line[at + scheme.len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/' || c == ')')
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}
