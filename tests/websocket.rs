//! WebSocket endpoints (the `websocket` feature) against an independent client — Python's
//! `websockets` library, run as a process (`tests/websocket_client.py`: echo of text and
//! binary, a 1 MiB message, fragmented messages, ping/pong, close codes both ways, a message
//! over the limit closed with 1009, bad handshakes answered 400 and 426, origins, subprotocols)
//! — and through the upgrade API in memory; graceful shutdown closes open sockets with 1001.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::Role;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt, future};
use smolweb::websocket::{CloseCode, Message, Origins, WebSocket, WebSocketConfig};
use smolweb::{Config, Router, Service, memory};
use support::{serve, serve_until};

/// Echoes text and binary messages as they come.
async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

fn app() -> Router {
    let small = WebSocketConfig {
        max_message_bytes: 1024,
        max_frame_bytes: 1024,
        ..WebSocketConfig::default()
    };
    let good_origin = WebSocketConfig {
        origins: Origins::Only(vec!["https://good.example".into()]),
        ..WebSocketConfig::default()
    };
    let protocols = WebSocketConfig {
        protocols: vec!["chat.v2".into(), "chat".into()],
        ..WebSocketConfig::default()
    };
    Router::new()
        .get("/echo", smolweb::websocket(echo))
        .get("/small", smolweb::websocket(echo).config(small))
        .get("/origin", smolweb::websocket(echo).config(good_origin))
        .get(
            "/proto",
            smolweb::websocket(|mut ws| async move {
                let chosen = ws.protocol().unwrap_or("none").to_string();
                let _ = ws.send(Message::text(chosen)).await;
                while ws.recv().await.is_some() {}
            })
            .config(protocols),
        )
        .get(
            "/close",
            smolweb::websocket(
                |ws| async move { ws.close(CloseCode::Library(4001), "custom").await },
            ),
        )
}

#[test]
fn an_independent_client_agrees() {
    let addr = serve(app(), Config::default(), 2);
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/websocket_client.py"
        ))
        .arg(addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the websockets package; .ci/run installs it)");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the Python client did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        !stderr.contains("No module named"),
        "install Python's websockets package (pip install websockets): {stderr}"
    );
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("11 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_handshake_and_an_echo_in_memory() {
    let service = Service::new(app());
    let (mut client, server) = memory::pair();
    let client_side = async {
        let head = open_in_memory(&mut client, "/echo").await;
        // RFC 6455 §1.3's example key and accept value.
        assert!(
            head.contains("\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nupgrade: websocket\r\n"), "{head}");
        let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        ws.send(Message::text("over memory")).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert_eq!(echoed, Message::text("over memory"));
        ws.send(Message::binary(vec![7u8; 70_000])).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::binary(vec![7u8; 70_000])
        );
        ws.close(None).await.unwrap();
        // The server answers the close, then ends the connection.
        while let Some(Ok(_)) = ws.next().await {}
    };
    future::block_on(future::zip(client_side, service.serve_connection(server)));
}

#[test]
fn graceful_shutdown_closes_open_sockets_with_going_away() {
    use async_tungstenite::tungstenite;
    let config = Config {
        shutdown_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let server = serve_until(app(), config, 1);
    let stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let url = format!("ws://{}/echo", server.addr);
    let (mut ws, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.status(), 101);
    ws.send(tungstenite::Message::text("before")).unwrap();
    assert_eq!(ws.read().unwrap(), tungstenite::Message::text("before"));

    let started = Instant::now();
    drop(server.stop);
    let close = match ws.read() {
        Ok(tungstenite::Message::Close(frame)) => frame,
        Ok(other) => panic!("expected a close frame, got {other:?}"),
        Err(e) => panic!("expected a close frame: {e}"),
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Away);
    // Our answer to the close (tungstenite sends it) completes the handshake; the server ends.
    let _ = ws.flush();
    server.thread.join().unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_example_echoes_and_chats() {
    use async_tungstenite::tungstenite;
    let ex = support::Example::start("websocket", &[]);
    let open = |path: &str| {
        let stream = std::net::TcpStream::connect(ex.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let url = format!("ws://{}{path}", ex.addr);
        tungstenite::client(url.as_str(), stream)
            .expect("handshake")
            .0
    };
    let mut echo = open("/echo");
    echo.send(tungstenite::Message::binary(vec![1u8, 2, 3]))
        .unwrap();
    assert_eq!(
        echo.read().unwrap(),
        tungstenite::Message::binary(vec![1u8, 2, 3])
    );

    let page = ex.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("new WebSocket"), "{}", page.text());

    let mut alice = open("/chat");
    let joined = alice.read().unwrap();
    let alice_id = joined
        .to_text()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    let mut bob = open("/chat");
    // Both hear bob join; then bob hears what alice says.
    assert!(bob.read().unwrap().to_text().unwrap().ends_with("joined"));
    assert!(alice.read().unwrap().to_text().unwrap().ends_with("joined"));
    alice.send(tungstenite::Message::text("hello bob")).unwrap();
    assert_eq!(
        bob.read().unwrap().to_text().unwrap(),
        format!("{alice_id}: hello bob")
    );
    // A message over the room's 4 KiB limit closes that member's socket with 1009.
    alice
        .send(tungstenite::Message::text("x".repeat(5000)))
        .unwrap();
    let closed = loop {
        match alice.read() {
            Ok(tungstenite::Message::Close(frame)) => break frame,
            Ok(_) => {} // its own message may still arrive before the close
            Err(e) => panic!("expected a close frame: {e}"),
        }
    };
    assert_eq!(closed.map(|f| f.code), Some(CloseCode::Size));
}

/// Opens a WebSocket on `path` over `client`: writes the handshake (RFC 6455 §1.3's example
/// key), reads the `101`'s head byte by byte (so nothing of the frames after it is taken) and
/// returns it.
async fn open_in_memory(client: &mut memory::MemoryStream, path: &str) -> String {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        assert!(seen.len() < 4096, "a head that never ends");
        client.read_exact(&mut byte).await.unwrap();
        seen.push(byte[0]);
    }
    let head = String::from_utf8(seen).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    head
}

/// A client frame's header: `first` (FIN and opcode), masked with a zero key, `len` bytes of
/// payload announced (the payload itself is not included).
fn frame_header(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    match len {
        0..=125 => out.push(0x80 | len as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&[0, 0, 0, 0]); // the masking key: zeros leave the payload as is
    out
}

/// Reads server frames until a close frame; returns its code.
async fn close_code(client: &mut memory::MemoryStream) -> u16 {
    for _ in 0..100 {
        let mut head = [0u8; 2];
        client.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                client.read_exact(&mut l).await.unwrap();
                u64::from(u16::from_be_bytes(l))
            }
            127 => {
                let mut l = [0u8; 8];
                client.read_exact(&mut l).await.unwrap();
                u64::from_be_bytes(l)
            }
            n => u64::from(n),
        };
        assert!(len < 1 << 20, "a server frame of {len} bytes");
        let mut payload = vec![0u8; len as usize];
        client.read_exact(&mut payload).await.unwrap();
        if head[0] & 0x0f == 0x8 {
            assert!(payload.len() >= 2, "a close frame without a code");
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
    }
    panic!("no close frame in 100 frames");
}

#[test]
fn a_frame_announced_too_large_is_refused_on_its_header() {
    let service = Service::new(app());
    let (mut client, server) = memory::pair();
    let client_side = async {
        open_in_memory(&mut client, "/small").await;
        // A binary frame announcing 1 GiB, of which nothing follows.
        client
            .write_all(&frame_header(0x82, 1 << 30))
            .await
            .unwrap();
        assert_eq!(close_code(&mut client).await, 1009);
        drop(client);
    };
    future::block_on(future::zip(client_side, service.serve_connection(server)));
}

#[test]
fn a_fragment_flood_ends_at_the_message_limit() {
    let service = Service::new(app());
    let (mut client, server) = memory::pair();
    let client_side = async {
        open_in_memory(&mut client, "/small").await;
        // One text message in 100-byte fragments, past the endpoint's 1 KiB.
        let piece = [b'f'; 100];
        let mut first = frame_header(0x01, 100);
        first.extend_from_slice(&piece);
        client.write_all(&first).await.unwrap();
        for _ in 0..20 {
            let mut more = frame_header(0x00, 100);
            more.extend_from_slice(&piece);
            if client.write_all(&more).await.is_err() {
                break; // the server may have closed already
            }
        }
        assert_eq!(close_code(&mut client).await, 1009);
        drop(client);
    };
    future::block_on(future::zip(client_side, service.serve_connection(server)));
}
