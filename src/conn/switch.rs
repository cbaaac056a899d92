//! Switching protocols: vetting a handler's `101`, and handing the connection over.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_types::{Response, StatusCode};

use super::shared::Shared;
use crate::response::status_response;
use crate::shutdown::Signal;
use crate::transport::Transport;
use crate::upgrade::{OnUpgrade, Upgraded};

/// The response to send and, if it switches protocols, what takes the connection after it.
///
/// A `101` goes out only to a request that may switch (`asked`: see `RequestHead::upgrade`)
/// and only with an [`OnUpgrade`] to run; any other `101` becomes a `500`, logged. A response
/// that is not a `101` never switches, whatever it carries.
pub(crate) fn vet(mut res: Response, asked: bool) -> (Response, Option<OnUpgrade>) {
    let on_upgrade = res.ext_mut().remove::<OnUpgrade>();
    if res.status() != StatusCode::SwitchingProtocols {
        return (res, None);
    }
    match on_upgrade {
        Some(on_upgrade) if asked => (res, Some(on_upgrade)),
        Some(_) => {
            log::error!(
                "a handler answered 101 to a request that cannot switch protocols \
                 (not HTTP/1.1, no Connection: upgrade, no Upgrade, or a body): sent 500"
            );
            (status_response(StatusCode::InternalServerError), None)
        }
        None => {
            log::error!("a handler answered 101 without smolweb::Upgrade: sent 500");
            (status_response(StatusCode::InternalServerError), None)
        }
    }
}

/// The connection as an [`Upgraded`]: its transport, the bytes buffered past the request
/// head, the shutdown signal, and the write timeout it keeps.
pub(crate) fn hand_over<T: Transport>(
    shared: &Arc<Shared<T>>,
    shutdown: &Signal,
    write_timeout: Duration,
) -> Upgraded {
    let buffered = shared.lock().buffer.take_all();
    Upgraded::new(
        Box::new(SharedTransport(shared.clone())),
        buffered,
        shutdown.watch(),
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
