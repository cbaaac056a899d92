//! WebSocket: an echo endpoint and a small chat room (needs the `websocket` feature).
//!
//! * `/echo` — every text or binary message is sent back as it came.
//! * `/` — a chat page; it opens a socket on `/chat`, and every message a member sends goes
//!   to every member. The room only accepts sockets opened by pages from this same host
//!   (`Origins::SameHost`, the default, against Cross-Site WebSocket Hijacking), drops a
//!   message for a member whose queue is full rather than wait for it, and refuses messages
//!   over 4 KiB (close code 1009).
//!
//! ```sh
//! cargo run --example websocket --features websocket -- 127.0.0.1:8080
//! # open http://127.0.0.1:8080/ in two browser tabs, or:
//! python3 -m websockets ws://127.0.0.1:8080/echo
//! ```

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_lite::future;
use smolweb::websocket::{Message, WebSocket, WebSocketConfig};
use smolweb::{Response, Router, StatusCode};

const USAGE: support::Usage = support::Usage {
    name: "websocket",
    args: "[ADDR]",
    about: "WebSocket on ADDR (default 127.0.0.1:8080): an echo at ws://127.0.0.1:8080/echo,
and a chat room: open http://127.0.0.1:8080/ in two tabs.",
};

/// Echoes text and binary messages until the client closes.
async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

/// Everyone in the chat: a queue of messages to send to each member.
#[derive(Default)]
struct Room {
    next_id: AtomicU64,
    members: Mutex<HashMap<u64, smol::channel::Sender<Arc<str>>>>,
}

impl Room {
    fn join(&self) -> (u64, smol::channel::Receiver<Arc<str>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = smol::channel::bounded(32);
        self.members.lock().unwrap().insert(id, tx);
        (id, rx)
    }

    fn leave(&self, id: u64) {
        self.members.lock().unwrap().remove(&id);
    }

    /// Queues `text` for every member; a member whose queue is full misses it.
    fn say(&self, text: Arc<str>) {
        for member in self.members.lock().unwrap().values() {
            let _ = member.try_send(text.clone());
        }
    }
}

/// One member: what the client says goes to the room, what the room says goes to the client.
async fn chat(mut ws: WebSocket, room: Arc<Room>) {
    let (id, inbox) = room.join();
    room.say(format!("member {id} joined").into());
    loop {
        enum Event {
            FromClient(Option<Message>),
            ToClient(Arc<str>),
        }
        let from_client = async { Event::FromClient(ws.recv().await.and_then(Result::ok)) };
        let to_client = async {
            match inbox.recv().await {
                Ok(text) => Event::ToClient(text),
                Err(_) => future::pending().await,
            }
        };
        match future::or(from_client, to_client).await {
            Event::FromClient(None) => break,
            Event::FromClient(Some(Message::Text(text))) => {
                room.say(format!("{id}: {}", text.as_str()).into());
            }
            Event::FromClient(Some(_)) => {}
            Event::ToClient(text) => {
                if ws.send(Message::text(&*text)).await.is_err() {
                    break;
                }
            }
        }
    }
    room.leave(id);
    room.say(format!("member {id} left").into());
}

async fn page(_req: smolweb::Request) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(PAGE);
    res.insert_header("content-type", "text/html;charset=utf-8");
    res
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>smolweb chat</title>
<pre id="log"></pre>
<form id="say"><input id="text" autofocus placeholder="say something"></form>
<script>
const log = document.getElementById("log");
const ws = new WebSocket(`ws://${location.host}/chat`);
ws.onmessage = (e) => { log.textContent += e.data + "\n"; };
ws.onclose = (e) => { log.textContent += `(closed: ${e.code})\n`; };
document.getElementById("say").onsubmit = (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  ws.send(text.value);
  text.value = "";
};
</script>
"#;

fn main() {
    let args = USAGE.parse(1);
    let server = USAGE.bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str));
    let room = Arc::new(Room::default());
    let small = WebSocketConfig {
        max_message_bytes: 4096,
        max_frame_bytes: 4096,
        ..WebSocketConfig::default()
    };
    let app = Router::new()
        .get("/", page)
        .get("/echo", smolweb::websocket(echo))
        .get(
            "/chat",
            smolweb::websocket(move |ws| chat(ws, room.clone())).config(small),
        );
    println!("listening on http://{}", server.local_addr());
    USAGE.exit(server.run(app));
}
