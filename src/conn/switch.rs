//! Switching protocols: vetting a handler's `101`, and handing the connection over.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_types::{Response, StatusCode};

use super::shared::Shared;
use crate::response::status_response;
use crate::shutdown::Watch;
use crate::transport::Transport;
use crate::upgrade::{OnUpgrade, Upgraded};

/// What takes the connection after `res`, if `res` switches protocols.
///
/// A `101` goes out only to a request that may switch (`asked`: see `RequestHead::upgrade`)
/// and only with an [`OnUpgrade`] to run; any other `101` is replaced by a `500`, logged. A
/// response that is not a `101` never switches, whatever it carries. (In place: a response
/// is large, and this runs for every one.)
pub(crate) fn vet(res: &mut Response, asked: bool) -> Option<OnUpgrade> {
    let on_upgrade = res.ext_mut().remove::<OnUpgrade>();
    if res.status() != StatusCode::SwitchingProtocols {
        return None;
    }
    match on_upgrade {
        Some(on_upgrade) if asked => return Some(on_upgrade),
        Some(_) => log::error!(
            "a handler answered 101 to a request that cannot switch protocols \
             (not HTTP/1.1, no Connection: upgrade, no Upgrade, or a body): sent 500"
        ),
        None => log::error!("a handler answered 101 without smolweb::Upgrade: sent 500"),
    }
    *res = status_response(StatusCode::InternalServerError);
    None
}

/// The connection as an [`Upgraded`]: its transport, the bytes buffered past the request
/// head, the shutdown signal, and the write timeout it keeps.
pub(crate) fn hand_over<T: Transport>(
    shared: &Arc<Shared<T>>,
    shutdown: &Watch,
    write_timeout: Duration,
) -> Upgraded {
    let buffered = shared.lock().buffer.take_all();
    Upgraded::new(
        Box::new(SharedTransport(shared.clone())),
        buffered,
        shutdown.clone(),
        write_timeout,
    )
}

/// The transport of a connection, reached through what it shares with its body reader.
struct SharedTransport<T>(Arc<Shared<T>>);

impl<T: Transport> Transport for SharedTransport<T> {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.transport.poll_recv(cx, buf)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.transport.poll_send(cx, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.0.transport.shutdown_write()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.0.transport.peer_addr()
    }
}
